/* charts.js: the dashboard's charts as SVG built in the DOM (labels as text nodes, never markup).
   Written here, not taken from a library: Debian packages no chart library a Cockpit page can
   load, the page builds nothing at packaging time, and two chart kinds (bars, a line over time)
   are a few dozen lines. */
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

    /* A line over time: points [[seconds since the epoch, value]], every step of `step` seconds
       from `from` to `to` drawn (missing ones are 0). */
    function timeline(points, from, to, step, title) {
        const width = 520, height = 160, left = 44, bottom = 20, top = 8;
        const root = svg("svg", { class: "ct-chart", viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": title });
        const values = new Map(points.map(([t, v]) => [Math.floor(t / step) * step, v]));
        const n = Math.max(1, Math.floor((to - from) / step));
        const series = [];
        for (let i = 0; i <= n; i++) {
            const t = from + i * step;
            series.push([t, values.get(Math.floor(t / step) * step) || 0]);
        }
        const max = Math.max(1, ...series.map(([, v]) => v));
        const x = t => left + (width - left - 4) * (t - from) / Math.max(1, to - from);
        const y = v => top + (height - top - bottom) * (1 - v / max);
        root.appendChild(svg("line", { x1: left, y1: y(0), x2: width - 4, y2: y(0), stroke: "#d2d2d2" }));
        root.appendChild(svg("text", { x: 0, y: y(max) + 10 }, max.toLocaleString()));
        root.appendChild(svg("text", { x: 0, y: y(0) }, "0"));
        const hours = (to - from) / 3600;
        for (let h = 0; h <= hours; h += Math.max(1, Math.round(hours / 6))) {
            const t = from + h * 3600;
            const label = new Date(t * 1000).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
            root.appendChild(svg("text", { x: x(t) - 14, y: height - 4 }, label));
        }
        const d = series.map(([t, v], i) => (i ? "L" : "M") + x(t).toFixed(1) + " " + y(v).toFixed(1)).join(" ");
        root.appendChild(svg("path", { d, fill: "none", stroke: "#0066cc", "stroke-width": 1.5 }));
        return root;
    }

    return { bars, timeline, legend };
})();
