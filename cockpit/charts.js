/* charts.js: the dashboard's charts as SVG built in the DOM (labels as text nodes, never markup).
   Written here, not taken from a library: Debian packages no chart library a Cockpit page can
   load, the page builds nothing at packaging time, and the bar charts it draws (horizontal bars,
   and the messages per minute as columns over a day) are a few dozen lines each. */
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

    /* Messages per minute: one column per minute from `from` to `to` (seconds since the epoch),
       stacked from the bottom: sent, failed, unknown. minutes: [{t (the minute's start, in
       seconds), sent, failed, unknown}], minutes without messages left out. Each drawn minute is
       a <g class="ct-minute"> with data-minute (its start) and data-messages (its total), and a
       tooltip. */
    const MINUTE_PARTS = [["sent", "#3e8635"], ["failed", "#c9190b"], ["unknown", "#f0ab00"]];
    function perMinute(minutes, from, to, title) {
        const width = 1200, height = 190, left = 48, right = 6, bottom = 20, top = 10;
        const root = svg("svg", { class: "ct-chart ct-per-minute", viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": title });
        const slots = Math.max(1, Math.round((to - from) / 60));
        const plotWidth = width - left - right, plotHeight = height - top - bottom;
        const total = m => MINUTE_PARTS.reduce((n, [part]) => n + m[part], 0);
        const shown = minutes.filter(m => m.t >= from && m.t < to && total(m) > 0);
        const max = Math.max(1, ...shown.map(total));
        const x = t => left + plotWidth * (t - from) / (slots * 60);
        const y = v => top + plotHeight * (1 - v / max);
        root.appendChild(svg("line", { x1: left, y1: y(0), x2: width - right, y2: y(0), stroke: "#d2d2d2" }));
        root.appendChild(svg("line", { x1: left, y1: y(max), x2: width - right, y2: y(max), stroke: "#f0f0f0" }));
        root.appendChild(svg("text", { x: left - 6, y: y(max) + 4, "text-anchor": "end" }, max.toLocaleString()));
        root.appendChild(svg("text", { x: left - 6, y: y(0) + 4, "text-anchor": "end" }, "0"));
        const hours = (to - from) / 3600;
        const every = Math.max(1, Math.round(hours / 6));
        for (let h = 0; h <= hours; h += every) {
            const t = to - h * 3600;
            const label = new Date(t * 1000).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
            root.appendChild(svg("text", { x: x(t), y: height - 4, "text-anchor": h === 0 ? "end" : "middle" }, label));
        }
        /* At least one unit wide: a day of minutes is narrower than the chart's pixels. */
        const columnWidth = Math.max(1, plotWidth / slots);
        for (const m of shown) {
            const g = svg("g", { class: "ct-minute", "data-minute": m.t, "data-messages": total(m) });
            const when = new Date(m.t * 1000).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
            g.appendChild(svg("title", {}, `${when}: ${m.sent} sent, ${m.failed} failed, ${m.unknown} unknown, ${m.deferred} deferred`));
            let below = 0;
            for (const [part, color] of MINUTE_PARTS) {
                if (!m[part]) continue;
                g.appendChild(svg("rect", { x: x(m.t), y: y(below + m[part]), width: columnWidth,
                                            height: Math.max(0.5, y(below) - y(below + m[part])), fill: color }));
                below += m[part];
            }
            root.appendChild(g);
        }
        return root;
    }

    return { bars, legend, perMinute };
})();
