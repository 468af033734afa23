/* charts.js: the dashboard's charts as SVG built in the DOM (labels as text nodes, never markup).
   Written here, not taken from a library: Debian packages no chart library a Cockpit page can
   load, the page builds nothing at packaging time, and the bar charts it draws are a few dozen
   lines. */
"use strict";

const campaigndCharts = (() => {
    const NS = "http://www.w3.org/2000/svg";

    function svg(tag, attrs, text) {
        const node = document.createElementNS(NS, tag);
        for (const [k, v] of Object.entries(attrs || {}))
            node.setAttribute(k, String(v));
        if (text !== undefined)
            node.textContent = text;
        return node;
    }

    function legend(items) {
        const div = document.createElement("div");
        div.className = "ct-legend";
        for (const item of items) {
            const span = document.createElement("span");
            span.style.setProperty("--c", item.color);
            span.textContent = item.label + ": " + item.value.toLocaleString();
            div.appendChild(span);
        }
        return div;
    }

    /* Horizontal bars, one per item {label, value, color}, scaled to the largest. */
    function bars(items, title) {
        const rowHeight = 26, labelWidth = 150, width = 520, valueWidth = 70;
        const height = Math.max(1, items.length) * rowHeight + 4;
        const root = svg("svg", { class: "ct-chart", viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": title });
        const max = Math.max(1, ...items.map(i => i.value));
        items.forEach((item, i) => {
            const y = i * rowHeight + 4;
            root.appendChild(svg("text", { x: 0, y: y + 15 }, item.label));
            const w = Math.max(item.value > 0 ? 2 : 0, (width - labelWidth - valueWidth) * item.value / max);
            root.appendChild(svg("rect", { x: labelWidth, y, width: w, height: rowHeight - 8, fill: item.color || "#0066cc" }));
            root.appendChild(svg("text", { x: labelWidth + w + 6, y: y + 15 }, item.value.toLocaleString()));
        });
        return root;
    }

    return { bars, legend };
})();
