// Charts through Chart.js (vendor/chart.umd.min.js, built from console/package-lock.json).
// Every chart is kept in window.consoleCharts under its name, so a test (or a curious staff member
// in the browser's console) can read exactly what was drawn.

export const COLORS = {
  teal: "#13BEBB", purple: "#21125E", green: "#5AB378", red: "#FE6D76", amber: "#FFB84E",
  blue: "#2D7FF9", grey: "#9EA7AB", lightTeal: "#A8E6E5",
};
export const SERIES = [COLORS.teal, COLORS.purple, COLORS.amber, COLORS.green, COLORS.red, COLORS.blue, COLORS.grey];

window.consoleCharts = window.consoleCharts || {};

function defaults() {
  const Chart = window.Chart;
  Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
  Chart.defaults.color = "#3D3D3D";
  Chart.defaults.plugins.legend.labels.boxWidth = 12;
  Chart.defaults.maintainAspectRatio = false;
  Chart.defaults.animation = false;  // drawn at once: screenshots and tests see the final chart
}

export function chart(name, type, data, options) {
  if (!window.Chart) throw new Error("Chart.js did not load.");
  defaults();
  if (window.consoleCharts[name]) window.consoleCharts[name].destroy();
  const canvas = document.createElement("canvas");
  canvas.setAttribute("aria-label", name);
  canvas.setAttribute("role", "img");
  const holder = document.createElement("div");
  holder.className = "chart chart-" + type;
  holder.dataset.chart = name;
  holder.append(canvas);
  pending.push(() => {
    window.consoleCharts[name] = new window.Chart(canvas, { type, data, options: options || {} });
  });
  return holder;
}

// Chart.js measures its parent: the page draws its charts once they are in the document.
const pending = [];
export function drawCharts() {
  pending.splice(0).forEach((draw) => draw());
}

export function money(currency) {
  return (value) => {
    try {
      return new Intl.NumberFormat(undefined, { style: "currency", currency, maximumFractionDigits: 0 }).format(value);
    } catch (error) {
      return value;
    }
  };
}
