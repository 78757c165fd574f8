//! `Python/suggestions.c` (3.13's use of it for keyword arguments): the "Did you mean" a
//! `TypeError` for an unexpected keyword argument ends with, from the nearest of the names the
//! callable takes by a Levenshtein distance in which a case flip costs less than a move.

/// `MAX_CANDIDATE_ITEMS`: more names than this and nothing is suggested.
const MAX_CANDIDATE_ITEMS: usize = 750;
/// `MAX_STRING_SIZE`: longer names (after the common affixes) are never near.
const MAX_STRING_SIZE: usize = 40;
/// `MOVE_COST`: inserting, deleting or replacing a character.
const MOVE_COST: usize = 2;
/// `CASE_COST`: replacing a letter by itself in the other case.
const CASE_COST: usize = 1;

/// `substitution_cost`.
fn substitution_cost(a: u8, b: u8) -> usize {
    if a & 31 != b & 31 {
        return MOVE_COST;
    }
    if a == b {
        return 0;
    }
    if a.eq_ignore_ascii_case(&b) {
        CASE_COST
    } else {
        MOVE_COST
    }
}

/// `levenshtein_distance` of the UTF-8 bytes, given up (`max_cost + 1`) once every path costs
/// more than `max_cost`.
fn levenshtein_distance(a: &[u8], b: &[u8], max_cost: usize) -> usize {
    let prefix = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    let (a, b) = (&a[prefix..], &b[prefix..]);
    let suffix = a
        .iter()
        .rev()
        .zip(b.iter().rev())
        .take_while(|(x, y)| x == y)
        .count();
    let (a, b) = (&a[..a.len() - suffix], &b[..b.len() - suffix]);
    if a.is_empty() || b.is_empty() {
        return (a.len() + b.len()) * MOVE_COST;
    }
    if a.len() > MAX_STRING_SIZE || b.len() > MAX_STRING_SIZE {
        return max_cost + 1;
    }
    // The shorter one is the row.
    let (a, b) = if b.len() < a.len() { (b, a) } else { (a, b) };
    if (b.len() - a.len()) * MOVE_COST > max_cost {
        return max_cost + 1;
    }
    let mut buffer: Vec<usize> = (1..=a.len()).map(|i| i * MOVE_COST).collect();
    let mut result = 0;
    for (b_index, &code) in b.iter().enumerate() {
        let mut distance = b_index * MOVE_COST;
        result = distance;
        let mut minimum = usize::MAX;
        for (index, &ch) in a.iter().enumerate() {
            let substitute = distance + substitution_cost(code, ch);
            distance = buffer[index];
            let insert_delete = result.min(distance) + MOVE_COST;
            result = insert_delete.min(substitute);
            buffer[index] = result;
            minimum = minimum.min(result);
        }
        if minimum > max_cost {
            return max_cost + 1;
        }
    }
    result
}

/// `_Py_CalculateSuggestions(dir, name)`: the first of the nearest names, none nearer than a
/// third of the characters involved.
pub(crate) fn calculate_suggestions<'a>(dir: &'a [String], name: &str) -> Option<&'a str> {
    if dir.len() >= MAX_CANDIDATE_ITEMS {
        return None;
    }
    let mut suggestion: Option<(&str, usize)> = None;
    for item in dir {
        if item == name {
            continue;
        }
        let mut max_distance = (name.len() + item.len() + 3) * MOVE_COST / 6;
        if let Some((_, best)) = suggestion {
            max_distance = max_distance.min(best.saturating_sub(1));
        }
        let distance = levenshtein_distance(name.as_bytes(), item.as_bytes(), max_distance);
        if distance > max_distance {
            continue;
        }
        if suggestion.is_none_or(|(_, best)| distance < best) {
            suggestion = Some((item, distance));
        }
    }
    suggestion.map(|(s, _)| s)
}

/// 3.12's and 3.13's `_compute_suggestion_error` (`Lib/traceback.py`) over one list of
/// candidates: the first of the nearest, none farther than the name's length allows.
pub(crate) fn compute_suggestion<'a>(candidates: &'a [String], name: &str) -> Option<&'a str> {
    if candidates.len() > MAX_CANDIDATE_ITEMS || name.chars().count() > MAX_STRING_SIZE {
        return None;
    }
    let mut best_distance = name.chars().count();
    let mut suggestion = None;
    for possible in candidates {
        if possible == name {
            continue;
        }
        let max_distance = ((possible.chars().count() + name.chars().count() + 3) * MOVE_COST / 6)
            .min(best_distance.saturating_sub(1));
        let distance = levenshtein_distance(name.as_bytes(), possible.as_bytes(), max_distance);
        if distance > max_distance {
            continue;
        }
        if suggestion.is_none() || distance < best_distance {
            suggestion = Some(possible.as_str());
            best_distance = distance;
        }
    }
    suggestion
}

/// 3.13's message for a keyword argument the callable does not take (`initialize_locals` in
/// `ceval.c`, `error_unexpected_keyword_arg` in `getargs.c`), with the suggestion if there is
/// one. (CPython builds the candidates as a temporary list, which the model does not make.)
pub(crate) fn unexpected_keyword(fname: &str, keyword: &str, candidates: &[String]) -> String {
    match calculate_suggestions(candidates, keyword) {
        Some(s) => {
            format!("{fname}() got an unexpected keyword argument '{keyword}'. Did you mean '{s}'?")
        }
        None => format!("{fname}() got an unexpected keyword argument '{keyword}'"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions_are_cpython_3_13_s() {
        // Measured on 3.13.0: print(1, fil=2) suggests 'file'; f(alpha, beta) called with
        // bet= suggests 'beta'; with d= nothing (f(a)).
        let print = ["sep", "end", "file", "flush"].map(String::from);
        assert_eq!(calculate_suggestions(&print, "fil"), Some("file"));
        let f = ["alpha", "beta"].map(String::from);
        assert_eq!(calculate_suggestions(&f, "bet"), Some("beta"));
        assert_eq!(calculate_suggestions(&["a".to_string()], "d"), None);
        assert_eq!(calculate_suggestions(&print, "SEP"), Some("sep"));
    }
}
