// Draws the dashboard's charts from the JSON the page embeds; the tables beside them hold the
// same numbers for people who prefer them or use a screen reader.
(function () {
  "use strict";
  var source = document.getElementById("study-chart-data");
  var canvas = document.getElementById("study-chart");
  if (!source || !canvas || typeof Chart === "undefined") {
    return;
  }
  var data = JSON.parse(source.textContent);
  new Chart(canvas, {
    type: "doughnut",
    data: {
      labels: data.labels,
      datasets: [{ data: data.values, backgroundColor: data.colors, borderWidth: 1 }],
    },
    options: {
      maintainAspectRatio: false,
      animation: false,
      plugins: { legend: { position: "bottom" } },
    },
  });
  canvas.dataset.drawn = "true";
})();
