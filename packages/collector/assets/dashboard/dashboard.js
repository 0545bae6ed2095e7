// Pruuv dashboard: progressive enhancement only; every page works without it.
// No inline script anywhere (the CSP forbids it): data for charts comes in
// <script type="application/json"> blocks, which browsers never execute.
(() => {
  'use strict';

  // Copy buttons: <button data-copy="#element-id">Copy</button>.
  for (const button of document.querySelectorAll('button[data-copy]')) {
    button.hidden = false;
    button.addEventListener('click', async () => {
      const source = document.querySelector(button.getAttribute('data-copy'));
      if (!source) return;
      const text = 'value' in source ? source.value : source.textContent;
      try {
        await navigator.clipboard.writeText(text);
        const before = button.textContent;
        button.textContent = 'Copied';
        setTimeout(() => (button.textContent = before), 1500);
      } catch {
        if (typeof source.select === 'function') source.select();
      }
    });
  }

  // Confirmations: <form data-confirm="Remove this user?">.
  for (const form of document.querySelectorAll('form[data-confirm]')) {
    form.addEventListener('submit', (event) => {
      if (!window.confirm(form.getAttribute('data-confirm'))) event.preventDefault();
    });
  }

  // A <script type="application/json"> block written by views/json-data.tsx: its text is escaped
  // like any text, and the only entity it can hold is &quot; (< and & are JSON escapes).
  const readJson = (block) => JSON.parse(block.textContent.replace(/&quot;/g, '"'));

  // Charts: <div class="chart" data-chart="id-of-json-block">, JSON { x: [unix s], series: [{ label, values, color }], utc? }.
  // With `utc: true` the time axis reads in UTC (daily figures are UTC days), not the browser's zone.
  if (typeof window.uPlot === 'function') {
    for (const holder of document.querySelectorAll('[data-chart]')) {
      const block = document.getElementById(holder.getAttribute('data-chart'));
      if (!block) continue;
      const data = readJson(block);
      const width = () => Math.max(280, holder.clientWidth - 20);
      const plot = new window.uPlot(
        {
          width: width(),
          height: 240,
          series: [{}, ...data.series.map((s) => ({ label: s.label, stroke: s.color, width: 2, points: { show: false } }))],
          axes: [{}, { size: 56 }],
          scales: { x: { time: true } },
          ...(data.utc ? { tzDate: (ts) => window.uPlot.tzDate(new Date(ts * 1000), 'Etc/UTC') } : {}),
        },
        [data.x, ...data.series.map((s) => s.values)],
        holder,
      );
      window.addEventListener('resize', () => plot.setSize({ width: width(), height: 240 }));
    }
  }
})();
