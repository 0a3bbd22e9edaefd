// The curator's page: load an example into the editor, run it against the SPARQL endpoint,
// show the answer as a table (IRIs as links, minted ones to their Linked Data pages) and
// download it as CSV or JSON.
"use strict";

(function () {
  const workbench = document.getElementById("workbench");
  const base = workbench.dataset.base;
  const endpoint = workbench.dataset.endpoint;
  const examples = JSON.parse(document.getElementById("examples").textContent);
  const picker = document.getElementById("example");
  const editor = document.getElementById("query");
  const description = document.getElementById("example-description");
  const status = document.getElementById("status");
  const errorBox = document.getElementById("error");
  const table = document.getElementById("results");
  const tableWrap = document.getElementById("results-wrap");
  const runButton = document.getElementById("run");

  picker.addEventListener("change", () => {
    const example = examples.find((e) => e.name === picker.value);
    if (!example) return;
    editor.value = example.text;
    description.textContent = example.description;
  });

  // POST keeps long queries out of the URL; Accept chooses the answer's format.
  function ask(accept) {
    return fetch(endpoint, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded", "Accept": accept },
      body: new URLSearchParams({ query: editor.value }),
    });
  }

  function setStatus(text, isError) {
    status.textContent = text;
    status.classList.toggle("error", Boolean(isError));
  }

  function showError(message) {
    errorBox.textContent = message;
    errorBox.hidden = false;
  }

  async function failure(response) {
    let text = await response.text();
    try { text = JSON.parse(text).detail || text; } catch (_) { /* a plain-text message */ }
    return `${response.status} ${response.statusText}: ${text}`;
  }

  function href(iri) {
    return iri.startsWith(base) && iri.length > base.length ? "/" + iri.slice(base.length) : iri;
  }

  function cell(term) {
    const td = document.createElement("td");
    if (!term) return td;
    if (term.type === "uri") {
      const a = document.createElement("a");
      a.href = href(term.value);
      a.textContent = term.value.startsWith(base) ? term.value.slice(base.length) : term.value;
      a.title = term.value;
      td.appendChild(a);
    } else {
      td.textContent = term.value;
      if (term["xml:lang"]) {
        const lang = document.createElement("span");
        lang.className = "lang";
        lang.textContent = "@" + term["xml:lang"];
        td.appendChild(lang);
      }
      if (/#(integer|decimal|double|float|long|int)$/.test(term.datatype || "")) td.className = "number";
    }
    return td;
  }

  function render(answer) {
    table.replaceChildren();
    const head = table.createTHead().insertRow();
    const body = table.createTBody();
    if ("boolean" in answer) {
      head.appendChild(Object.assign(document.createElement("th"), { textContent: "answer" }));
      body.insertRow().appendChild(Object.assign(document.createElement("td"), { textContent: String(answer.boolean) }));
      return 1;
    }
    const variables = answer.head.vars;
    head.appendChild(Object.assign(document.createElement("th"), { textContent: "#", className: "rownum" }));
    for (const name of variables) head.appendChild(Object.assign(document.createElement("th"), { textContent: name }));
    answer.results.bindings.forEach((binding, index) => {
      const row = body.insertRow();
      row.appendChild(Object.assign(document.createElement("td"), { textContent: index + 1, className: "rownum" }));
      for (const name of variables) row.appendChild(cell(binding[name]));
    });
    return answer.results.bindings.length;
  }

  async function run() {
    runButton.disabled = true;
    errorBox.hidden = true;
    setStatus("running…");
    const started = performance.now();
    try {
      const response = await ask("application/sparql-results+json");
      if (!response.ok) {
        tableWrap.hidden = true;
        showError(await failure(response));
        setStatus("failed", true);
        return;
      }
      const answer = await response.json();
      const seconds = (performance.now() - started) / 1000;
      const rows = render(answer);
      tableWrap.hidden = false;
      setStatus(`${rows.toLocaleString()} ${rows === 1 ? "row" : "rows"} in ${seconds.toFixed(seconds < 1 ? 3 : 2)} s`);
    } catch (error) {
      showError(String(error));
      setStatus("failed", true);
    } finally {
      runButton.disabled = false;
    }
  }

  async function download(accept, extension) {
    errorBox.hidden = true;
    const response = await ask(accept);
    if (!response.ok) { showError(await failure(response)); return; }
    const url = URL.createObjectURL(await response.blob());
    const name = (picker.value && examples.some((e) => e.text === editor.value) ? picker.value : "results") + extension;
    const link = Object.assign(document.createElement("a"), { href: url, download: name });
    document.body.appendChild(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  }

  runButton.addEventListener("click", run);
  document.getElementById("download-csv").addEventListener("click", () => download("text/csv", ".csv"));
  document.getElementById("download-json").addEventListener("click", () => download("application/sparql-results+json", ".json"));
  editor.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) { event.preventDefault(); run(); }
  });
})();
