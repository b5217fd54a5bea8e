// Draws the cockpit's charts with Chart.js (vendored from npm, wwwroot/lib/chart.js) from the figures the page embeds;
// clicking a bar, slice or point opens the customers behind it (the same links as the tables).
(function () {
  const data = JSON.parse(document.getElementById('cockpit-data').textContent);
  const palette = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];
  const open = (links) => (event, elements) => { if (elements.length > 0) window.location.href = links[elements[0].index]; };
  window.deskCharts = {};
  const rate = document.getElementById('chart-rate');
  if (rate) {
    window.deskCharts.rate = new Chart(rate, {
      type: 'doughnut',
      data: { labels: ['collected', 'open'], datasets: [{ data: [data.rate, Math.max(0, 100 - data.rate)], backgroundColor: ['#2ca02c', '#e3e6ea'] }] },
      options: { rotation: -90, circumference: 180, aspectRatio: 2.5, plugins: { legend: { display: false } }, animation: false },
    });
  }
  document.querySelectorAll('canvas[data-kind]').forEach((canvas) => {
    const name = canvas.id.substring('chart-'.length);
    const chart = data.charts[name];
    if (!chart) return;
    const kind = canvas.dataset.kind;
    let config;
    if (kind === 'stacked') {
      // One stacked bar of the whole portfolio: a segment per aging bucket.
      config = {
        type: 'bar',
        data: { labels: [data.total], datasets: chart.labels.map((label, i) => ({ label, data: [chart.values[0][i]], backgroundColor: palette[i] })) },
        options: { indexAxis: 'y', scales: { x: { stacked: true }, y: { stacked: true } }, onClick: (event, elements) => { if (elements.length > 0) window.location.href = chart.links[elements[0].datasetIndex]; } },
      };
    } else if (kind === 'doughnut') {
      config = {
        type: 'doughnut',
        data: { labels: chart.labels, datasets: [{ label: chart.columns[0], data: chart.values[0], backgroundColor: palette }, { label: chart.columns[1], data: chart.values[1], backgroundColor: palette }] },
        options: { onClick: open(chart.links) },
      };
    } else if (kind === 'ranked') {
      config = {
        type: 'bar',
        data: { labels: chart.labels, datasets: [{ label: chart.columns[0], data: chart.values[0], backgroundColor: palette[2] }, { label: chart.columns[3], data: chart.values[3], backgroundColor: palette[3] }] },
        options: { indexAxis: 'y', onClick: open(chart.links) },
      };
    } else if (kind === 'line') {
      config = {
        type: 'line',
        data: { labels: chart.labels, datasets: [{ label: chart.columns[0], data: chart.values[0], borderColor: palette[3], tension: 0 }] },
        options: { onClick: open(chart.links) },
      };
    } else {
      config = {
        type: 'bar',
        data: { labels: chart.labels, datasets: [{ label: chart.columns[2], data: chart.values[2], backgroundColor: palette[0], yAxisID: 'y' }, { label: chart.columns[3], data: chart.values[3], backgroundColor: palette[1], yAxisID: 'pct' }] },
        options: { scales: { y: { position: 'left' }, pct: { position: 'right', grid: { drawOnChartArea: false } } }, onClick: open(chart.links) },
      };
    }
    config.options.animation = false;
    window.deskCharts[name] = new Chart(canvas, config);
  });
})();
