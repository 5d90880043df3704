// The TextMate grammar (syntaxes/journey.tmLanguage.json) against every
// example, with VS Code's own tokenizer (vscode-textmate + vscode-oniguruma):
// every token of every example gets a scope of its own (not just
// `source.journey`, never `invalid.illegal`), and spot checks of scopes.
// Run: node test/grammar.test.js [FILE...]   (pytest runs it: tests/test_editor.py)
"use strict";

const fs = require("fs");
const path = require("path");
const vsctm = require("vscode-textmate");
const oniguruma = require("vscode-oniguruma");

const ROOT = path.resolve(__dirname, "..", "..", "..");
const GRAMMAR = path.resolve(__dirname, "..", "syntaxes", "journey.tmLanguage.json");

function journeyFiles(folder) {
  const out = [];
  for (const entry of fs.readdirSync(folder, { withFileTypes: true })) {
    const full = path.join(folder, entry.name);
    if (entry.isDirectory()) out.push(...journeyFiles(full));
    else if (entry.name.endsWith(".journey")) out.push(full);
  }
  return out.sort();
}

async function loadGrammar() {
  const wasm = fs.readFileSync(require.resolve("vscode-oniguruma/release/onig.wasm")).buffer;
  await oniguruma.loadWASM(wasm);
  const registry = new vsctm.Registry({
    onigLib: Promise.resolve({
      createOnigScanner: (patterns) => new oniguruma.OnigScanner(patterns),
      createOnigString: (text) => new oniguruma.OnigString(text),
    }),
    loadGrammar: async (scopeName) =>
      scopeName === "source.journey"
        ? vsctm.parseRawGrammar(fs.readFileSync(GRAMMAR, "utf8"), GRAMMAR)
        : null,
  });
  return registry.loadGrammar("source.journey");
}

function tokenize(grammar, text) {
  const out = [];
  let stack = vsctm.INITIAL;
  text.split(/\r?\n/).forEach((line, number) => {
    const found = grammar.tokenizeLine(line, stack);
    for (const token of found.tokens) {
      out.push({
        line: number + 1,
        column: token.startIndex + 1,
        text: line.slice(token.startIndex, token.endIndex),
        scopes: token.scopes,
      });
    }
    stack = found.ruleStack;
  });
  return out;
}

// [file, line text that contains it, the token, a scope it must have]
const SPOT_CHECKS = [
  ["examples/saas_trial.journey", 'journey "SaaS free trial', "journey", "keyword.control.journey"],
  ["examples/saas_trial.journey", 'journey "SaaS free trial', "SaaS free trial: six-stage journey", "string.quoted.double.journey"],
  ["examples/saas_trial.journey", "currency USD", "currency", "keyword.control.journey"],
  ["examples/saas_trial.journey", "discount 10% per year", "10%", "constant.numeric.percentage.journey"],
  ["examples/saas_trial.journey", "discount 10% per year", "per", "keyword.control.journey"],
  ["examples/saas_trial.journey", "horizon 3y", "3y", "constant.numeric.duration.journey"],
  ["examples/saas_trial.journey", "# CLV is discounted", "# CLV is discounted at our cost of capital", "comment.line.number-sign.journey"],
  ["examples/saas_trial.journey", "persona smb", "smb", "entity.name.type.persona.journey"],
  ["examples/saas_trial.journey", "persona smb", "share", "variable.other.property.attribute.journey"],
  ["examples/saas_trial.journey", 'stage awareness "Awareness"', "stage", "keyword.declaration.journey"],
  ["examples/saas_trial.journey", 'stage awareness "Awareness"', "awareness", "entity.name.namespace.stage.journey"],
  ["examples/saas_trial.journey", "touchpoint paid_ad", "paid_ad", "entity.name.function.touchpoint.journey"],
  ["examples/saas_trial.journey", "touchpoint paid_ad", "channel", "variable.other.property.attribute.journey"],
  ["examples/saas_trial.journey", "touchpoint paid_ad", "1.20", "constant.numeric.journey"],
  ["examples/saas_trial.journey", "touchpoint paid_ad", "ent", "variable.parameter.persona.journey"],
  ["examples/saas_trial.journey", "paid_ad    -> pricing 6%..10%", "->", "keyword.operator.arrow.transition.journey"],
  ["examples/saas_trial.journey", "paid_ad    -> pricing 6%..10%", "..", "keyword.operator.range.journey"],
  ["examples/saas_trial.journey", "paid_ad    -> pricing 6%..10%", "pricing", "variable.other.step.journey"],
  ["examples/saas_trial.journey", "paying => invite 0.02", "=>", "keyword.operator.arrow.referral.journey"],
  ["examples/saas_trial.journey", "demo        -> procurement", "2w", "constant.numeric.duration.journey"],
  ["examples/saas_trial.journey", "demo        -> procurement", "after", "keyword.control.journey"],
  ["examples/saas_trial.journey", "paying  -> paying 95%", "1mo", "constant.numeric.duration.journey"],
  ["examples/saas_trial.journey", "procurement -> retention.paying", ".", "punctuation.accessor.journey"],
  ["examples/saas_trial.journey", "expect ltv_cac(smb) >= 1", "ltv_cac", "support.function.metric.journey"],
  ["examples/saas_trial.journey", "expect ltv_cac(smb) >= 1", ">=", "keyword.operator.comparison.journey"],
  ["examples/saas_trial.journey", "expect time_to_convert <= 60d", "60d", "constant.numeric.duration.journey"],
  ["examples/saas_trial.journey", "scenario simpler_pricing", "simpler_pricing", "entity.name.class.scenario.journey"],
  ["examples/b2b_webinar.journey", 'use "lib/b2b_personas.journey"', "use", "keyword.control.journey"],
  ["examples/lifecycle_five_stage.journey", "beta(60, 40)", "beta", "keyword.control.journey"],
  ["examples/vn_label_printer.journey", "persona chủ_shop", "chủ_shop", "entity.name.type.persona.journey"],
  ["examples/vn_label_printer.journey", "touchpoint đơn_máy_in", "đơn_máy_in", "entity.name.function.touchpoint.journey"],
  ["examples/domain_registrar.journey", "value 99_000; margin 100%; cost 265_000", "265_000", "constant.numeric.journey"],
  ["examples/domain_registrar.journey", 'Google Ads: \\"cheap', '\\"', "constant.character.escape.journey"],
];

async function main() {
  const grammar = await loadGrammar();
  const files = process.argv.slice(2).length
    ? process.argv.slice(2).map((f) => path.resolve(f))
    : journeyFiles(path.join(ROOT, "examples"));
  const problems = [];
  let tokens = 0;
  const byFile = new Map();
  for (const file of files) {
    const found = tokenize(grammar, fs.readFileSync(file, "utf8"));
    byFile.set(path.relative(ROOT, file).split(path.sep).join("/"), found);
    for (const token of found) {
      if (!token.text.trim()) continue;
      tokens += 1;
      const own = token.scopes.filter((s) => s !== "source.journey");
      if (!own.length || own.some((s) => s.startsWith("invalid."))) {
        problems.push(`${path.relative(ROOT, file)}:${token.line}:${token.column}: ` +
          `\`${token.text}\` has scopes ${JSON.stringify(token.scopes)}`);
      }
    }
  }
  let checked = 0;
  for (const [file, lineHas, text, scope] of SPOT_CHECKS) {
    const found = byFile.get(file);
    if (!found) continue; // run on other files: the spot checks are for the examples
    const lines = new Set();
    const source = fs.readFileSync(path.join(ROOT, file), "utf8").split(/\r?\n/);
    source.forEach((line, i) => { if (line.includes(lineHas)) lines.add(i + 1); });
    const token = found.find((t) => lines.has(t.line) && t.text === text);
    checked += 1;
    if (!token) {
      problems.push(`spot check: no token \`${text}\` on a line with \`${lineHas}\` in ${file}`);
    } else if (!token.scopes.includes(scope)) {
      problems.push(`spot check: \`${text}\` (${file}:${token.line}) has ${JSON.stringify(token.scopes)}, ` +
        `not ${scope}`);
    }
  }
  if (problems.length) {
    console.error(problems.join("\n"));
    console.error(`FAILED: ${problems.length} problem(s)`);
    process.exit(1);
  }
  console.log(`ok: ${tokens} tokens in ${files.length} files, each with a scope; ` +
    `${checked} spot checks`);
}

main().catch((err) => {
  console.error(err && err.stack ? err.stack : String(err));
  process.exit(1);
});
