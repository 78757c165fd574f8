// Korean search: prepended by the book tool to the Korean edition's searchindex.js.
//
// elasticlunr's English trimmer strips every character outside [0-9a-z_] from both ends of a
// token, so a Hangul word is trimmed to nothing, both when mdBook builds the index and when the
// browser reads a query. The Korean index names `trimmer-ko` as its first pipeline step instead:
// trim only what is neither a letter nor a digit in any script. This registration sits in the
// same script as the index, so it always runs after elasticlunr.min.js and before the index loads.
elasticlunr.Pipeline.registerFunction(function (token) {
    if (token === null || token === undefined) {
        throw new Error('token should not be undefined');
    }
    return token.replace(/^[^\p{L}\p{N}_]+/u, '').replace(/[^\p{L}\p{N}_]+$/u, '');
}, 'trimmer-ko');
