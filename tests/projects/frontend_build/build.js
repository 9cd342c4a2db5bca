// The front-end build: concatenates the sources in assets/ into the app's
// static folder, which git ignores (a checkout has none until this runs).
const fs = require("fs");
const path = require("path");

const sources = path.join(__dirname, "assets");
const output = path.join(__dirname, "tracker", "static", "tracker");

function bundle(extension, target) {
  const names = fs.readdirSync(sources).filter((name) => name.endsWith(extension)).sort();
  const parts = names.map((name) => `/* ${name} */\n` + fs.readFileSync(path.join(sources, name), "utf8"));
  fs.writeFileSync(path.join(output, target), parts.join("\n"));
  console.log(`wrote ${path.relative(__dirname, path.join(output, target))} from ${names.length} file(s)`);
}

fs.mkdirSync(output, { recursive: true });
bundle(".css", "app.css");
bundle(".js", "app.js");
