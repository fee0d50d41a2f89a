// Draws the dashboard's charts from the JSON the page embeds; the tables beside them hold the
// same numbers for people who prefer them or use a screen reader.
(function () {
  "use strict";
  var source = document.getElementById("dashboard-data");
  document.querySelectorAll("[data-print]").forEach(function (button) {
    button.addEventListener("click", function () { window.print(); });
  });
  var charts = [];
  // On paper the charts are redrawn to the page's width, and the tables marked for print are
  // shown; both go back afterwards.
  var openedForPrint = [];
  window.addEventListener("beforeprint", function () {
    document.querySelectorAll("details[data-print-open]:not([open])").forEach(function (details) {
      details.open = true;
      openedForPrint.push(details);
    });
    charts.forEach(function (chart) { chart.resize(); });
  });
  window.addEventListener("afterprint", function () {
    openedForPrint.forEach(function (details) { details.open = false; });
    openedForPrint = [];
    charts.forEach(function (chart) { chart.resize(); });
  });
  if (!source || typeof Chart === "undefined") {
    return;
  }
  var data = JSON.parse(source.textContent);
  // Chart.js draws its labels in a light grey (#666); the page's own text colour reads better.
  Chart.defaults.color = "#3d4349";
  var common = { maintainAspectRatio: false, animation: false };

  function draw(id, config) {
    var canvas = document.getElementById(id);
    if (!canvas) {
      return;
    }
    charts.push(new Chart(canvas, config));
    canvas.dataset.drawn = "true";
  }

  // A dashed vertical line at the study deadline, with its date.
  var deadlineLine = {
    id: "deadlineLine",
    afterDatasetsDraw: function (chart, args, options) {
      if (options.index === null || options.index === undefined) {
        return;
      }
      var x = chart.scales.x.getPixelForValue(options.index);
      var area = chart.chartArea;
      var ctx = chart.ctx;
      ctx.save();
      ctx.strokeStyle = "#b3121b";
      ctx.setLineDash([6, 4]);
      ctx.beginPath();
      ctx.moveTo(x, area.top);
      ctx.lineTo(x, area.bottom);
      ctx.stroke();
      ctx.setLineDash([]);
      ctx.fillStyle = "#b3121b";
      ctx.font = "12px sans-serif";
      ctx.textAlign = x > area.right - 120 ? "right" : "left";
      ctx.fillText(options.label, x + (ctx.textAlign === "left" ? 4 : -4), area.top + 12);
      ctx.restore();
    },
  };

  // A long committee name over several lines, so a phone shows it whole.
  function wrap(label, width) {
    var lines = [];
    var line = "";
    String(label).split(" ").forEach(function (word) {
      if (line && (line + " " + word).length > width) {
        lines.push(line);
        line = word;
      } else {
        line = line ? line + " " + word : word;
      }
    });
    lines.push(line);
    return lines;
  }

  var curve = data.curve;
  draw("curve-chart", {
    type: "line",
    data: {
      labels: curve.labels,
      datasets: [
        {
          label: curve.names.done,
          data: curve.values,
          borderColor: "#198754",
          backgroundColor: "rgba(25, 135, 84, 0.15)",
          fill: true,
          stepped: true,
          pointRadius: 0,
        },
        {
          label: curve.names.target,
          data: curve.labels.map(function () { return curve.target; }),
          borderColor: "#6c757d",
          borderDash: [4, 4],
          pointRadius: 0,
          fill: false,
        },
      ],
    },
    options: Object.assign({}, common, {
      scales: { y: { beginAtZero: true, ticks: { precision: 0 } } },
      plugins: {
        legend: { position: "bottom" },
        deadlineLine: { index: curve.deadlineIndex, label: curve.names.deadline },
      },
    }),
    plugins: [deadlineLine],
  });

  draw("study-chart", {
    type: "doughnut",
    data: {
      labels: data.state.labels,
      datasets: [{ data: data.state.values, backgroundColor: data.state.colors, borderWidth: 1 }],
    },
    options: Object.assign({}, common, { plugins: { legend: { position: "bottom" } } }),
  });

  draw("fields-chart", {
    type: "bar",
    data: {
      labels: data.fields.labels,
      datasets: [{ data: data.fields.values, backgroundColor: data.fields.colors }],
    },
    options: Object.assign({}, common, {
      plugins: { legend: { display: false } },
      scales: { y: { beginAtZero: true, ticks: { precision: 0 } } },
    }),
  });

  if (data.branches.labels.length) {
    // One bar per committee, every name readable: a name too long for one line wraps, and as
    // every bar gets the same height, each gets room for the longest name's lines, so that no
    // two names overlap.
    var narrow = window.innerWidth < 576;
    var width = narrow ? 18 : 34;
    var lineHeight = 15;
    var wrapped = data.branches.labels.map(function (label) { return wrap(label, width); });
    var most = wrapped.reduce(function (max, label) { return Math.max(max, label.length); }, 1);
    var box = document.getElementById("branch-chart").parentNode;
    box.style.height = Math.max(160, wrapped.length * (most * lineHeight + 6) + 70) + "px";
    var percent = function (value) { return value + "%"; };
    draw("branch-chart", {
      type: "bar",
      data: {
        labels: data.branches.labels,
        datasets: [{ label: data.branches.name, data: data.branches.done, backgroundColor: "#198754" }],
      },
      options: Object.assign({}, common, {
        indexAxis: "y",
        plugins: {
          legend: { display: false },
          tooltip: { callbacks: { label: function (item) { return data.branches.name + ": " + percent(item.parsed.x); } } },
        },
        scales: {
          x: {
            beginAtZero: true,
            max: 100,
            ticks: { callback: percent },
            // The axis says what it counts: the share of each committee's units study-complete.
            title: { display: true, text: data.branches.name },
          },
          y: { ticks: { autoSkip: false, font: { size: 12, lineHeight: lineHeight / 12 }, callback: function (value, index) {
            return wrapped[index];
          } } },
        },
      }),
    });
  }
})();
