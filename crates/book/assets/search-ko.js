// Korean search for the Korean edition.
//
// elasticlunr's English trimmer strips every character outside [0-9a-z_] from both ends of a
// token, so a Hangul word is trimmed to nothing, both when mdBook builds the index and when the
// browser reads a query. The book tool rebuilds the Korean index with a pipeline whose first step
// is `trimmer-ko`, which trims only what is neither a letter nor a digit in any script; this file
// registers the same step in the browser, under the same name, before the index is loaded.
(function () {
    'use strict';
    function trimmerKo(token) {
        if (token === null || token === undefined) {
            throw new Error('token should not be undefined');
        }
        return token
            .replace(/^[^\p{L}\p{N}_]+/u, '')
            .replace(/[^\p{L}\p{N}_]+$/u, '');
    }
    elasticlunr.Pipeline.registerFunction(trimmerKo, 'trimmer-ko');
})();
