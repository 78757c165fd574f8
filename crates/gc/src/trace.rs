//! The collector's steps in the object layer's trace (`objects::GcStep`): what `collect` logs
//! beyond its one-line calls of `Objects::trace_gc`. Nothing is computed while the trace is off.

use objects::{GcStep, ObjEvent, Objects};

/// The start of a collection of `generation`, with the counts it found.
pub(crate) fn trace_start(o: &mut Objects, generation: usize) {
    if o.tracing() {
        let c = o.gc_counts();
        o.trace_gc_event(ObjEvent::GcStart {
            generation,
            count: [c.count0, c.count1, c.count2],
        });
    }
}

/// Each object's `gc_refs` after a pass over `containers`; not even the walk when the trace is
/// off.
pub(crate) fn trace_refs(o: &mut Objects, containers: &[u64], step: fn(i64) -> GcStep) {
    if o.tracing() {
        for &op in containers {
            let refs = o.gc_refs(op);
            o.trace_gc(op, step(refs));
        }
    }
}

#[cfg(test)]
mod tests {
    use objects::{GcStep, ObjEvent, Objects, TypeId};
    use pymalloc::Profile;

    /// The steps logged for `op`, in order.
    fn steps_of(events: &[ObjEvent], op: u64) -> Vec<GcStep> {
        events
            .iter()
            .filter_map(|e| match *e {
                ObjEvent::Gc { op: o, step, .. } if o == op => Some(step),
                _ => None,
            })
            .collect()
    }

    /// `x` is met before `h`, which holds it and is held from outside: moved to unreachable,
    /// then brought back. `a` and `b` are a garbage cycle: cleared, first `a`, then freed.
    #[test]
    fn a_collection_logs_each_objects_steps() -> Result<(), objects::ObjError> {
        let mut o = Objects::new(Profile::CPYTHON_3_11)?;
        let x = o.list_new_generic()?;
        let h = o.list_new_generic()?;
        o.list_append(h, x)?;
        o.decref(x)?;
        let a = o.list_new_generic()?;
        let b = o.list_new_generic()?;
        o.list_append(a, b)?;
        o.list_append(b, a)?;
        o.decref(a)?;
        o.decref(b)?;
        o.set_trace(true);
        let found = crate::collect(&mut o, 2)?;
        let events = o.take_trace();
        assert_eq!(found.collected, 2);
        assert!(matches!(
            events.first(),
            Some(ObjEvent::GcStart { generation: 2, .. })
        ));
        assert!(matches!(
            events.last(),
            Some(ObjEvent::GcEnd {
                collected: 2,
                uncollectable: 0,
                ..
            })
        ));
        use GcStep::*;
        assert_eq!(
            steps_of(&events, x),
            [
                UpdateRefs(1),
                SubtractRefs(0),
                TentativelyUnreachable,
                BroughtBack,
                Reachable(1)
            ]
        );
        assert_eq!(
            steps_of(&events, h),
            [UpdateRefs(1), SubtractRefs(1), Reachable(1)]
        );
        assert_eq!(
            steps_of(&events, a),
            [
                UpdateRefs(1),
                SubtractRefs(0),
                TentativelyUnreachable,
                Clear
            ]
        );
        assert_eq!(
            steps_of(&events, b),
            [UpdateRefs(1), SubtractRefs(0), TentativelyUnreachable]
        );
        let dealloc = |op| {
            events.iter().position(|e| {
                *e == ObjEvent::Dealloc {
                    op,
                    ty: TypeId::List,
                }
            })
        };
        assert!(dealloc(b).is_some() && dealloc(b) < dealloc(a));
        Ok(())
    }
}
