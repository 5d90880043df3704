// The journeydsl extension: starts `journey lsp` (the language server of the
// journeydsl Python package) for .journey files. Highlighting, brackets and
// snippets need no server; everything else comes from it.
"use strict";

const vscode = require("vscode");
const { LanguageClient, TransportKind } = require("vscode-languageclient/node");

let client;

function serverOptions() {
  const command = vscode.workspace.getConfiguration("journey").get("server.command");
  const [program, ...args] = Array.isArray(command) && command.length ? command : ["journey", "lsp"];
  return { command: program, args, transport: TransportKind.stdio };
}

async function start(context) {
  client = new LanguageClient(
    "journey",
    "journeydsl",
    serverOptions(),
    {
      documentSelector: [{ language: "journey" }],
      synchronize: { fileEvents: vscode.workspace.createFileSystemWatcher("**/*.journey") },
    },
  );
  try {
    await client.start();
  } catch (err) {
    const { command, args } = serverOptions();
    vscode.window.showErrorMessage(
      `journeydsl: cannot start the language server (\`${[command, ...args].join(" ")}\`): ${err.message}. ` +
        "Install journeydsl (pip install journeydsl) in the Python environment VS Code sees, " +
        "or set `journey.server.command`.",
    );
    client = undefined;
  }
}

async function activate(context) {
  await start(context);
  context.subscriptions.push(
    vscode.workspace.onDidChangeConfiguration(async (event) => {
      if (event.affectsConfiguration("journey.server")) {
        if (client) {
          await client.stop();
        }
        await start(context);
      }
    }),
  );
}

async function deactivate() {
  if (client) {
    await client.stop();
  }
}

module.exports = { activate, deactivate };
