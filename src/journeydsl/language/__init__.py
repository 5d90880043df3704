"""The front end: journey text in, diagnostics and a compiled journey out.

The stages, in order: `source` (bytes to text, spans), `syntax` (the lark
parse, syntax errors), `transform` (the parse to the `model`, value shapes
read by `values`), `imports` (`use "file.journey"`), `resolve` (names),
`checks` and `cascade` (sums, reachability, loops), `compiled` (the typed,
frozen journey the back ends read) and `graph` (its networkx form);
`compiler` runs them, `scenarios` applies a what-if, `export` dumps the model.
"""
