/* Owner dashboard: draws the weekly KPI chart from the JSON block the page carries
   (<script type="application/json" id="kpi-data">: data, never executed, so the
   Content-Security-Policy's script-src 'self' is kept). */
(function () {
  "use strict";

  var OK = "#15803d";
  var OVER = "#b91c1c";

  function alpha(hex, a) {
    var n = parseInt(hex.slice(1), 16);
    return "rgba(" + (n >> 16) + "," + ((n >> 8) & 255) + "," + (n & 255) + "," + a + ")";
  }

  function draw() {
    var source = document.getElementById("kpi-data");
    var canvas = document.getElementById("kpi-chart");
    if (!source || !canvas || typeof window.Chart === "undefined") {
      return;
    }
    var d = JSON.parse(source.textContent);
    var averaged = {};
    d.average_of.forEach(function (week) { averaged[week] = true; });
    var colours = d.interruptions.map(function (n, i) {
      var base = n <= d.target ? OK : OVER;
      // The current week is counted to date: drawn lighter, since it is not over yet.
      return d.complete[i] ? alpha(base, 0.85) : alpha(base, 0.35);
    });
    canvas.chart = new window.Chart(canvas, {
      type: "bar",
      data: {
        labels: d.labels,
        datasets: [
          {
            type: "bar",
            label: "Interruptions",
            data: d.interruptions,
            backgroundColor: colours,
            borderRadius: 4,
            order: 2
          },
          {
            type: "line",
            label: "4-week average (" + d.average + ")",
            data: d.weeks.map(function (week) { return averaged[week] ? d.average : null; }),
            borderColor: "#0f172a",
            borderDash: [6, 4],
            borderWidth: 2,
            pointRadius: 0,
            spanGaps: false,
            order: 1
          },
          {
            type: "line",
            label: "Target 0–" + d.target,
            data: d.weeks.map(function () { return d.target; }),
            fill: "origin",
            backgroundColor: alpha(OK, 0.12),
            borderColor: alpha(OK, 0.5),
            borderWidth: 1,
            pointRadius: 0,
            order: 3
          }
        ]
      },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        interaction: { mode: "index", intersect: false },
        scales: {
          y: { beginAtZero: true, ticks: { precision: 0 }, title: { display: true, text: "per week" } },
          x: { grid: { display: false } }
        },
        plugins: {
          legend: { position: "bottom", labels: { boxWidth: 14 } },
          tooltip: {
            callbacks: {
              afterTitle: function (items) {
                var i = items.length ? items[0].dataIndex : 0;
                return d.complete[i] ? "" : "this week, to date";
              }
            }
          }
        }
      }
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
