// Small DOM helpers, number and date formats, and the one table component (with CSV export).

export function el(tag, attributes, ...children) {
  const node = document.createElement(tag);
  Object.entries(attributes || {}).forEach(([name, value]) => {
    if (value === null || value === undefined || value === false) return;
    if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else if (name === "dataset") Object.assign(node.dataset, value);
    else node.setAttribute(name, value === true ? "" : value);
  });
  children.flat(Infinity).forEach((child) => {
    if (child === null || child === undefined || child === false) return;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  });
  return node;
}

export function clear(node, ...children) {
  node.replaceChildren(...children.flat(Infinity).filter(Boolean));
  return node;
}

export function money(amount, currency) {
  if (amount === null || amount === undefined) return "—";
  const value = Number(amount);
  try {
    return new Intl.NumberFormat(undefined, { style: "currency", currency }).format(value);
  } catch (error) {
    return value.toFixed(2) + " " + currency;
  }
}

export function percent(value) {
  if (value === null || value === undefined || Number.isNaN(Number(value))) return "—";
  return (Number(value) * 100).toFixed(1) + " %";
}

export function date(value) {
  return value ? new Date(value).toISOString().slice(0, 10) : "—";
}

export function dateTime(value) {
  return value ? new Date(value).toISOString().slice(0, 16).replace("T", " ") + " UTC" : "—";
}

export function humanize(value) {
  if (!value) return "—";
  const text = String(value).replace(/_/g, " ").toLowerCase();
  return text.charAt(0).toUpperCase() + text.slice(1);
}

export function statusChip(status) {
  return el("span", { class: "chip chip-" + String(status).toLowerCase() }, humanize(status));
}

export function card(title, body, actions) {
  return el("section", { class: "card" },
    el("header", { class: "card-header" }, el("h2", {}, title), actions || null),
    el("div", { class: "card-body" }, body));
}

export function notice(text, kind) {
  return el("div", { class: "notice notice-" + (kind || "info"), role: kind === "error" ? "alert" : "status" }, text);
}

// CSV as spreadsheets read it: every field quoted, quotes doubled, and text that a spreadsheet
// would run as a formula (=, +, -, @ not followed by a number) prefixed with an apostrophe.
export function toCsv(columns, rows) {
  const field = (value) => {
    let text = value === null || value === undefined ? "" : String(value);
    if (/^[=+\-@\t\r]/.test(text) && !/^[-+]?\d+(\.\d+)?$/.test(text)) text = "'" + text;
    return '"' + text.replace(/"/g, '""') + '"';
  };
  const lines = [columns.map((column) => field(column.label))];
  rows.forEach((row) => lines.push(columns.map((column) => field(column.csv ? column.csv(row) : column.value(row)))));
  return lines.map((line) => line.join(",")).join("\r\n") + "\r\n";
}

export function download(filename, text) {
  const link = el("a", {
    href: URL.createObjectURL(new Blob([text], { type: "text/csv;charset=utf-8" })),
    download: filename,
  });
  document.body.append(link);
  link.click();
  link.remove();
}

// A table of `rows`; `columns` are {label, value(row) -> text, render(row) -> node?, csv(row)?,
// numeric?, csvOnly? (exported, not shown)}.
// "Export CSV" writes every row the table knows, or what `allRows()` fetches (the whole list,
// not only the page on screen).
export function table(name, columns, rows, options) {
  const opts = options || {};
  const exportCsv = async (event) => {
    const button = event.currentTarget;
    button.disabled = true;
    try {
      const everything = opts.allRows ? await opts.allRows() : rows;
      download(name + "-" + new Date().toISOString().slice(0, 10) + ".csv", toCsv(columns, everything));
    } finally {
      button.disabled = false;
    }
  };
  const shown = columns.filter((column) => !column.csvOnly);
  const body = rows.length
    ? rows.map((row) => el("tr", opts.onRowClick ? { class: "clickable", onclick: () => opts.onRowClick(row) } : {},
      shown.map((column) => el("td", { class: column.numeric ? "numeric" : null },
        column.render ? column.render(row) : column.value(row)))))
    : [el("tr", {}, el("td", { colspan: shown.length, class: "empty" }, opts.empty || "Nothing to show."))];
  return el("div", { class: "table-wrap", dataset: { table: name } },
    el("div", { class: "table-tools" },
      el("button", { class: "button button-text", type: "button", dataset: { csv: name }, onclick: exportCsv }, "Export CSV")),
    el("table", { class: "data-table" },
      el("thead", {}, el("tr", {}, shown.map((column) => el("th", { class: column.numeric ? "numeric" : null }, column.label)))),
      el("tbody", {}, body)));
}
