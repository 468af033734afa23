/* campaignd.js: campaignd's Cockpit page. Everything it shows and does goes through
   org.campaignd.Campaignd1 on the system bus (cockpit.dbus), called as the logged-in user and
   never with superuser: the daemon's own authorisation (root and its admin group change state;
   its reader group reads personal data) decides, exactly as for campaignd-ctl. The page asks
   Manager.GetAccess once to offer only the actions that will be allowed, and shows every error
   in the daemon's words. Live figures come from the campaign objects' signals (Progress and
   PropertiesChanged), not from polling. Text from the daemon (names, subjects, addresses,
   reasons) only ever becomes text nodes; the campaign's HTML is previewed as the daemon's
   sanitiser returns it, in a sandboxed frame with no script. Views are chosen by the location
   (#/, #/campaigns, #/campaign/ID, #/new, #/campaign/ID/edit, #/recipients, #/recipient/ADDR,
   #/groups, #/bounces). */
"use strict";

const SERVICE = "org.campaignd.Campaignd1";
const ROOT = "/org/campaignd/Campaignd1";
const MANAGER = "org.campaignd.Campaignd1.Manager";
const CAMPAIGN = "org.campaignd.Campaignd1.Campaign";
const PROPERTIES = "org.freedesktop.DBus.Properties";

const bus = cockpit.dbus(SERVICE, { bus: "system" });
let access = { may_change: false, may_read_personal: false, uid: -1 };
let currentView = null;  // { name, dispose }

// ---- small helpers ------------------------------------------------------------------------

/* An element: el("td", {class: "x"}, "text", childNode, ...). Strings become text nodes. */
function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
        if (v === undefined || v === null || v === false) continue;
        if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
        else if (k === "class") node.className = v;
        else node.setAttribute(k, v === true ? "" : String(v));
    }
    for (const c of children.flat()) {
        if (c === undefined || c === null || c === false) continue;
        node.appendChild(typeof c === "string" || typeof c === "number" ? document.createTextNode(String(c)) : c);
    }
    return node;
}

/* Replaces node's children; strings become text, null/undefined/false are left out. */
function fill(node, ...children) {
    node.replaceChildren();
    for (const c of children.flat()) {
        if (c === undefined || c === null || c === false) continue;
        node.appendChild(typeof c === "string" || typeof c === "number" ? document.createTextNode(String(c)) : c);
    }
    return node;
}

/* a{sv} from cockpit ({key: {t, v}}) as a plain object. */
function plain(dict) {
    const out = {};
    for (const [k, variant] of Object.entries(dict || {}))
        out[k] = variant && typeof variant === "object" && "v" in variant ? variant.v : variant;
    return out;
}

function variant(t, v) { return { t, v }; }

/* Calls a method; resolves to its out arguments. */
function call(path, iface, method, args, type) {
    return bus.call(path, iface, method, args || [], type ? { type } : {});
}
const manager = (method, args, type) => call(ROOT, MANAGER, method, args, type);
const campaignPath = id => ROOT + "/campaign/" + id;
const onCampaign = (id, method, args, type) => call(campaignPath(id), CAMPAIGN, method, args, type);

/* The daemon's words for a failed call. */
function words(ex) {
    if (!ex) return "unknown error";
    return ex.message || ex.problem || String(ex);
}

function alert(kind, title, text) {
    const box = el("div", { class: "pf-v5-c-alert pf-m-" + kind, role: "alert" },
                   el("div", { class: "pf-v5-c-alert__title" }, title),
                   text ? el("div", {}, text) : null);
    document.getElementById("alerts").appendChild(box);
    setTimeout(() => box.remove(), kind === "danger" ? 15000 : 5000);
}
const failed = what => ex => alert("danger", what + " failed", words(ex));

function number(n) { return Number(n || 0).toLocaleString(); }
function percent(part, whole) { return whole > 0 ? (100 * part / whole) : 0; }
function when(usec) {
    if (!usec) return "";
    return new Date(Number(usec) / 1000).toLocaleString();
}

const STATUS = {
    draft: ["Draft", ""],
    scheduled: ["Scheduled", "blue"],
    in_progress: ["In progress", "blue"],
    paused: ["Paused", "orange"],
    completed: ["Completed", "green"],
    cancelled: ["Cancelled", "red"],
};
function statusLabel(status, reason) {
    const [text, colour] = STATUS[status] || [status, ""];
    return el("span", { class: "pf-v5-c-label" + (colour ? " pf-m-" + colour : ""), title: reason || undefined, "data-status": status }, text);
}

/* Done (sent, failed, unknown, skipped) over all recipients, as a bar. */
function done(c) {
    return Number(c.sent_count || 0) + Number(c.failed_count || 0) + Number(c.unknown_count || 0) + Number(c.skipped_count || 0);
}
function progressBar(c) {
    const total = Number(c.recipient_count || 0);
    const value = total > 0 ? Math.floor(100 * done(c) / total) : 0;
    // The width through the CSSOM: Cockpit's Content-Security-Policy drops style attributes.
    const indicator = el("div", { class: "pf-v5-c-progress__indicator" });
    indicator.style.width = value + "%";
    return el("div", { class: "pf-v5-c-progress" + (value >= 100 ? " pf-m-success" : ""), role: "progressbar",
                       "aria-valuemin": 0, "aria-valuemax": 100, "aria-valuenow": value, "data-campaign": c.id },
              el("div", { class: "pf-v5-c-progress__bar" }, indicator),
              el("span", { class: "pf-v5-c-progress__measure" }, value + "%"));
}
function updateProgress(bar, c) {
    const total = Number(c.recipient_count || 0);
    const value = total > 0 ? Math.floor(100 * done(c) / total) : 0;
    bar.setAttribute("aria-valuenow", value);
    bar.classList.toggle("pf-m-success", value >= 100);
    bar.querySelector(".pf-v5-c-progress__indicator").style.width = value + "%";
    bar.querySelector(".pf-v5-c-progress__measure").textContent = value + "%";
}

function button(label, kind, onclick, opts) {
    opts = opts || {};
    const mutating = opts.mutating !== false;
    const b = el("button", { class: "pf-v5-c-button pf-m-" + kind, type: "button", "data-action": opts.action || label,
                             disabled: mutating && !access.may_change,
                             title: mutating && !access.may_change ? "Only root and members of the " + (access.admin_group || "campaignd") + " group may do this" : undefined },
                 label);
    b.addEventListener("click", () => {
        b.disabled = true;
        Promise.resolve()
                .then(onclick)
                .finally(() => { b.disabled = mutating && !access.may_change; });
    });
    return b;
}

function table(headers, rows, empty) {
    if (!rows.length) return el("div", { class: "ct-empty" }, empty || "Nothing here yet.");
    return el("table", { class: "pf-v5-c-table" },
              el("thead", {}, el("tr", {}, headers.map(h => typeof h === "string" ? el("th", {}, h) : el("th", { class: h.class }, h.text)))),
              el("tbody", {}, rows));
}

function card(title, figure, note) {
    return el("div", { class: "pf-v5-c-card" },
              el("div", { class: "pf-v5-c-card__title" }, title),
              el("div", { class: "ct-figure" }, figure),
              note ? el("div", { class: "ct-figure-note" }, note) : null);
}

/* Live campaign signals: handler(id, kind, data) with kind "progress" (the Progress
   arguments as counts) or "properties" (changed properties as Describe's keys). */
const PROPERTY_KEYS = {
    Status: "status", StatusReason: "status_reason", RecipientCount: "recipient_count", SentCount: "sent_count",
    FailedCount: "failed_count", PendingCount: "pending_count", UnknownCount: "unknown_count",
    SkippedCount: "skipped_count", InFlightCount: "in_flight_count", Name: "name", Subject: "subject",
};
function watchCampaigns(handler) {
    const idOf = path => Number(path.slice((ROOT + "/campaign/").length));
    const progress = bus.subscribe({ interface: CAMPAIGN, member: "Progress", path_namespace: ROOT + "/campaign" },
                                   (path, iface, signal, args) => {
                                       const [sent, failed, pending, unknown, skipped, inFlight, rate] = args;
                                       handler(idOf(path), "progress", {
                                           sent_count: sent, failed_count: failed, pending_count: pending,
                                           unknown_count: unknown, skipped_count: skipped, in_flight_count: inFlight, rate
                                       });
                                   });
    const props = bus.subscribe({ interface: PROPERTIES, member: "PropertiesChanged", path_namespace: ROOT + "/campaign" },
                                (path, iface, signal, args) => {
                                    if (args[0] !== CAMPAIGN) return;
                                    const changed = {};
                                    for (const [k, v] of Object.entries(args[1] || {}))
                                        if (PROPERTY_KEYS[k]) changed[PROPERTY_KEYS[k]] = v.v;
                                    handler(idOf(path), "properties", changed);
                                });
    return () => { progress.remove(); props.remove(); };
}

// ---- the dashboard ------------------------------------------------------------------------

const PROVIDER_LIMITS = {
    // As campaignd-ctl's report and dashboard name them (ctl/report_format.cpp).
    complaint: { warn: 0.1, bad: 0.3, text: "Gmail and Yahoo: under 0.1 %, never 0.3 %" },
    hard: { warn: 2, bad: 5, text: "Amazon SES reviews a sender at 5 %" },
};
function rateCell(part, whole, limit) {
    const rate = percent(part, whole);
    const cls = rate >= limit.bad ? "ct-rate-bad" : rate >= limit.warn ? "ct-rate-warn" : "ct-rate-ok";
    return el("td", { class: "ct-number " + cls, title: limit.text }, rate.toFixed(2) + " %");
}

function dashboardView(view) {
    view.appendChild(el("h1", {}, "Dashboard"));
    const body = el("div", {});
    view.appendChild(body);
    let timer = null;
    const render = () => manager("GetDashboard").then(([dict]) => {
        const d = plain(dict);
        fill(body, 
            el("div", { class: "ct-cards" },
               card("Recipients", number(d.total_recipients), number(d.subscribed_recipients) + " subscribed"),
               card("Campaigns", number(d.total_campaigns)),
               card("Groups", number(d.total_groups)),
               card("Sent", number(d.sent)),
               card("Failed", number(d.failed)),
               card("Unknown", number(d.unknown), "handed over, outcome unknowable"),
               card("Pending", number(Number(d.pending || 0) + Number(d.in_flight || 0))),
               card("Unsubscribes", number(d.unsubscribes), number(d.unsubscribes_30d) + " in the last 30 days"),
               card("Suppressed", number(d.suppressed))),
            el("div", { class: "ct-grid-2" },
               chartCard("Messages per minute, last 24 hours", () => {
                   // GetDashboard's per_minute: [minute start (microseconds), sent, failed,
                   // unknown, deferred], minutes without outcomes left out.
                   const minutes = (d.per_minute || []).map(([t, sent, failed, unknown, deferred]) => ({
                       t: Math.floor(Number(t) / 1e6), sent: Number(sent), failed: Number(failed),
                       unknown: Number(unknown), deferred: Number(deferred)
                   }));
                   if (!minutes.length) return [el("div", { class: "ct-figure-note" }, "No messages in the last 24 hours.")];
                   const sum = part => minutes.reduce((n, m) => n + m[part], 0);
                   const to = Math.floor(Date.now() / 60000) * 60 + 60;
                   return [campaigndCharts.perMinute(minutes, to - 86400, to, "messages per minute"),
                           campaigndCharts.legend([
                               { label: "Sent", value: sum("sent"), color: "#3e8635" },
                               { label: "Failed", value: sum("failed"), color: "#c9190b" },
                               { label: "Unknown", value: sum("unknown"), color: "#f0ab00" },
                               { label: "Deferred", value: sum("deferred"), color: "#8a8d90" }])];
               }, d.per_minute !== undefined, "ct-wide"),
               chartCard("Outcomes", () => {
                   const items = [
                       { label: "Sent", value: Number(d.sent || 0), color: "#3e8635" },
                       { label: "Failed", value: Number(d.failed || 0), color: "#c9190b" },
                       { label: "Unknown", value: Number(d.unknown || 0), color: "#f0ab00" },
                       { label: "Skipped", value: Number(d.skipped || 0), color: "#6a6e73" },
                   ];
                   return [campaigndCharts.bars(items, "outcomes")];
               }),
               chartCard("Campaigns by status", () => {
                   const by = d.campaigns_by_status || {};
                   const items = Object.keys(STATUS).map(s => ({ label: STATUS[s][0], value: Number(by[s] || 0), color: "#0066cc" }));
                   return [campaigndCharts.bars(items, "campaigns by status")];
               }),
               chartCard("Bounces by reason", () => {
                   const items = (d.bounces_by_reason || []).map(([reason, n]) => ({ label: reason, value: Number(n), color: "#5752d1" }));
                   return items.length ? [campaigndCharts.bars(items, "bounces by reason")] : [el("div", { class: "ct-figure-note" }, "No bounces recorded.")];
               }, d.bounces_by_reason !== undefined)),
            el("h2", {}, "Sending guard"),
            el("p", { class: "ct-figure-note" }, "Hard-bounce rate of attempts and complaint rate of delivered messages, for each campaign sending or paused, against the providers' limits."),
            table(["Campaign", "Status", { text: "Attempts", class: "ct-number" }, { text: "Hard-bounce rate", class: "ct-number" },
                   { text: "Delivered", class: "ct-number" }, { text: "Complaint rate", class: "ct-number" }, "Guard"],
                  (d.guard_rates || []).map(g => plain(g)).map(g => el("tr", {},
                      el("td", {}, el("a", { href: "#/campaign/" + g.id }, g.name)),
                      el("td", {}, statusLabel(g.status)),
                      el("td", { class: "ct-number" }, number(g.attempts)),
                      rateCell(Number(g.hard_bounces || 0), Number(g.attempts || 0), PROVIDER_LIMITS.hard),
                      el("td", { class: "ct-number" }, number(g.delivered)),
                      rateCell(Number(g.complaints || 0), Number(g.delivered || 0), PROVIDER_LIMITS.complaint),
                      el("td", {}, g.bounce_guard))),
                  "No campaign is sending or paused."));
    }).catch(ex => fill(body, el("div", { class: "ct-inline-error" }, words(ex))));
    render();
    // The figures move while campaigns send: redraw on their signals, at most every 2 s.
    const stop = watchCampaigns(() => {
        if (timer === null) timer = setTimeout(() => { timer = null; render(); }, 2000);
    });
    return () => { stop(); if (timer !== null) clearTimeout(timer); };
}

function chartCard(title, draw, available, extraClass) {
    if (available === false) return null;
    return el("div", { class: "pf-v5-c-card" + (extraClass ? " " + extraClass : "") }, el("h3", {}, title), draw());
}

// ---- campaigns ----------------------------------------------------------------------------

function campaignsView(view) {
    const list = el("div", {});
    view.appendChild(el("div", { class: "ct-toolbar" }, el("h1", {}, "Campaigns"), el("span", { class: "ct-spacer" }),
                        button("Create campaign", "primary", () => cockpit.location.go(["new"]), { action: "create" })));
    view.appendChild(list);
    const rows = new Map();  // id -> {campaign, row}
    const row = c => {
        const bar = progressBar(c);
        const tr = el("tr", { "data-campaign": c.id },
                      el("td", {}, el("a", { href: "#/campaign/" + c.id }, c.name)),
                      el("td", { class: "ct-status" }, statusLabel(c.status, c.status_reason)),
                      el("td", {}, bar),
                      el("td", { class: "ct-number ct-sent" }, number(c.sent_count)),
                      el("td", { class: "ct-number ct-failed" }, number(c.failed_count)),
                      el("td", { class: "ct-number ct-total" }, number(c.recipient_count)),
                      el("td", {}, when(c.created_at)));
        return { campaign: c, row: tr, bar };
    };
    const load = () => manager("ListCampaigns", [{}], "a{sv}").then(([campaigns]) => {
        rows.clear();
        const trs = campaigns.map(plain).map(c => {
            const r = row(c);
            rows.set(Number(c.id), r);
            return r.row;
        });
        fill(list, table(["Name", "Status", "Progress", { text: "Sent", class: "ct-number" },
                                    { text: "Failed", class: "ct-number" }, { text: "Recipients", class: "ct-number" }, "Created"],
                                   trs, "No campaigns yet."));
    }).catch(ex => fill(list, el("div", { class: "ct-inline-error" }, words(ex))));
    load();
    return watchCampaigns((id, kind, data) => {
        const r = rows.get(id);
        if (!r) { load(); return; }  // a campaign this list has not seen
        Object.assign(r.campaign, data);
        updateProgress(r.bar, r.campaign);
        r.row.querySelector(".ct-sent").textContent = number(r.campaign.sent_count);
        r.row.querySelector(".ct-failed").textContent = number(r.campaign.failed_count);
        r.row.querySelector(".ct-total").textContent = number(r.campaign.recipient_count);
        if (data.status !== undefined)
            fill(r.row.querySelector(".ct-status"), statusLabel(r.campaign.status, r.campaign.status_reason));
    });
}

/* The actions the daemon allows in each status (dbus-interfaces/...Campaign.xml). */
function actionsFor(c, refresh) {
    const id = c.id;
    const act = (label, kind, method, args, type, action) =>
        button(label, kind, () => onCampaign(id, method, args, type).then(refresh).catch(failed(label)), { action });
    const out = [];
    const s = c.status;
    if (s === "draft" || s === "scheduled") {
        out.push(act("Send now", "primary", "Send", [], null, "send"));
        out.push(button("Edit", "secondary", () => cockpit.location.go(["campaign", String(id), "edit"]), { action: "edit" }));
    }
    if (s === "scheduled") out.push(act("Unschedule", "secondary", "Unschedule", [], null, "unschedule"));
    if (s === "in_progress") out.push(act("Pause", "secondary", "Pause", [], null, "pause"));
    if (s === "paused") {
        if (c.bounce_guard === "tripped")
            out.push(act("Resume anyway", "danger", "ResumeEx", [1], "t", "resume-force"));
        else
            out.push(act("Resume", "primary", "Resume", [], null, "resume"));
    }
    if (s !== "completed" && s !== "cancelled") out.push(act("Cancel", "secondary", "Cancel", [], null, "cancel"));
    if (s !== "in_progress")
        out.push(button("Delete", "danger", () => {
            if (!window.confirm("Delete campaign \u201c" + c.name + "\u201d and its send ledger?")) return;
            return onCampaign(id, "Delete").then(() => cockpit.location.go(["campaigns"])).catch(failed("Delete"));
        }, { action: "delete" }));
    return out;
}

function scheduleForm(c, refresh) {
    if (c.status !== "draft" && c.status !== "scheduled") return null;
    const input = el("input", { class: "pf-v5-c-form-control ct-inline", type: "datetime-local", name: "schedule" });
    return el("div", { class: "ct-toolbar" }, "Schedule for", input,
              button("Schedule", "secondary", () => {
                  const t = Date.parse(input.value);
                  if (Number.isNaN(t)) { alert("warning", "Pick a date and time first"); return; }
                  return onCampaign(c.id, "Schedule", [t * 1000], "t").then(refresh).catch(failed("Schedule"));
              }, { action: "schedule" }));
}

function attachForm(c, refresh) {
    if (c.status !== "draft" && c.status !== "scheduled") return null;
    const select = el("select", { class: "pf-v5-c-form-control ct-inline", name: "group" });
    manager("ListGroups").then(([groups]) => {
        fill(select, ...groups.map(plain).map(g => el("option", { value: g.name }, g.name + " (" + number(g.member_count) + ")")));
    }).catch(failed("Listing the groups"));
    return el("div", { class: "ct-toolbar" }, "Attach the subscribed members of", select,
              button("Attach group", "secondary", () => {
                  if (!select.value) return;
                  return onCampaign(c.id, "Attach", [{ groups: variant("as", [select.value]) }], "a{sv}").then(([result]) => {
                      const r = plain(result);
                      alert("success", "Group attached", number(r.attached) + " attached, " + number(r.already_attached) +
                            " already, " + number(Number(r.skipped_unsubscribed || 0) + Number(r.skipped_bounced || 0)) + " skipped");
                      refresh();
                  }).catch(failed("Attach"));
              }, { action: "attach" }));
}

function campaignView(view, id) {
    const body = el("div", {});
    view.appendChild(body);
    let campaign = null;
    let rate = 0;
    const live = {};
    const render = () => Promise.all([onCampaign(id, "Describe"), onCampaign(id, "GetSummary")]).then(([[describe], [summary]]) => {
        campaign = plain(describe);
        const s = plain(summary);
        const counts = el("dl", { class: "ct-description" });
        live.counts = counts;
        live.bar = progressBar(campaign);
        live.rate = el("dd", { "data-field": "rate" });
        live.left = el("dd", { "data-field": "time-left" });
        fillCounts(counts, campaign);
        fill(body, 
            el("div", { class: "ct-toolbar" }, el("h1", {}, campaign.name), live.status = statusLabel(campaign.status, campaign.status_reason),
               el("span", { class: "ct-spacer" }), actionsFor(campaign, render)),
            campaign.status_reason ? el("p", { class: "ct-figure-note" }, campaign.status_reason) : null,
            (campaign.warnings || []).length ? el("div", { class: "pf-v5-c-alert pf-m-warning" }, campaign.warnings.map(w => el("div", {}, w))) : null,
            el("div", { class: "ct-section" }, live.bar),
            el("div", { class: "ct-grid-2" },
               el("div", { class: "pf-v5-c-card" }, el("h3", {}, "Progress"), counts,
                  el("dl", { class: "ct-description" }, el("dt", {}, "Rate"), live.rate, el("dt", {}, "Time left"), live.left)),
               el("div", { class: "pf-v5-c-card" }, el("h3", {}, "Message"),
                  el("dl", { class: "ct-description" },
                     el("dt", {}, "Subject"), el("dd", {}, campaign.subject),
                     el("dt", {}, "From"), el("dd", {}, campaign.from_address || "(the default sender)"),
                     el("dt", {}, "Transport"), el("dd", {}, campaign.transport || "(the default)"),
                     el("dt", {}, "Signed"), el("dd", {}, campaign.dkim_domain ? "DKIM d=" + campaign.dkim_domain : "unsigned"),
                     el("dt", {}, "Created"), el("dd", {}, when(campaign.created_at)),
                     campaign.scheduled_time ? [el("dt", {}, "Scheduled"), el("dd", {}, when(campaign.scheduled_time))] : null))),
            attachForm(campaign, render),
            scheduleForm(campaign, render),
            el("h2", {}, "Report"),
            el("dl", { class: "ct-description" },
               el("dt", {}, "Success"), el("dd", {}, Number(s.success_percent || 0).toFixed(1) + " %"),
               el("dt", {}, "Bounces"), el("dd", {}, number(s.bounces)),
               el("dt", {}, "Unsubscribes"), el("dd", {}, number(s.unsubscribes) + " (" + Number(s.unsubscribe_percent || 0).toFixed(2) + " % of sent)"),
               el("dt", {}, "Hard-bounce rate"), el("dd", {}, percent(Number(s.hard_bounces || 0), Number(s.attempts || 0)).toFixed(2) + " % (" + PROVIDER_LIMITS.hard.text + ")"),
               el("dt", {}, "Complaint rate"), el("dd", {}, percent(Number(s.complaints || 0), Number(s.delivered || 0)).toFixed(2) + " % (" + PROVIDER_LIMITS.complaint.text + ")")),
            el("h3", {}, "Failure reasons"),
            table(["Reason", { text: "Recipients", class: "ct-number" }],
                  (s.failure_reasons || []).map(([reason, n]) => el("tr", {}, el("td", {}, reason), el("td", { class: "ct-number" }, number(n)))),
                  "No failures."),
            el("h3", {}, "Bounces by reason"),
            table(["Reason", { text: "Bounces", class: "ct-number" }],
                  (s.bounces_by_reason || []).map(([reason, n]) => el("tr", {}, el("td", {}, reason), el("td", { class: "ct-number" }, number(n)))),
                  "No bounces."));
        showRate();
    }).catch(ex => fill(body, el("div", { class: "ct-inline-error" }, words(ex))));
    const showRate = () => {
        if (!live.rate) return;
        if (campaign.status !== "in_progress") rate = 0;
        live.rate.textContent = rate > 0 ? rate.toFixed(1) + " messages a second" : "\u2014";
        const left = Number(campaign.pending_count || 0) + Number(campaign.in_flight_count || 0);
        live.left.textContent = rate > 0 && left > 0 ? duration(left / rate) : "\u2014";
    };
    render();
    return watchCampaigns((changed, kind, data) => {
        if (changed !== id || !campaign) return;
        if (kind === "progress") rate = Number(data.rate || 0);
        Object.assign(campaign, data);
        updateProgress(live.bar, campaign);
        fillCounts(live.counts, campaign);
        showRate();
        if (data.status !== undefined) render();  // the actions change with the status
    });
}

function fillCounts(dl, c) {
    fill(dl, 
        ...[["Recipients", "recipient_count"], ["Sent", "sent_count"], ["Failed", "failed_count"], ["Unknown", "unknown_count"],
            ["Skipped", "skipped_count"], ["Pending", "pending_count"], ["In flight", "in_flight_count"]]
                .flatMap(([label, key]) => [el("dt", {}, label), el("dd", { "data-field": key }, number(c[key]))]));
}

function duration(seconds) {
    if (seconds < 60) return Math.ceil(seconds) + " s";
    if (seconds < 3600) return Math.ceil(seconds / 60) + " min";
    return (seconds / 3600).toFixed(1) + " h";
}

/* The create and edit form, with a preview of the HTML as the daemon's sanitiser leaves it. */
function campaignForm(view, id) {
    const fields = {
        name: el("input", { class: "pf-v5-c-form-control", name: "name", required: true }),
        subject: el("input", { class: "pf-v5-c-form-control", name: "subject", required: true }),
        from_address: el("input", { class: "pf-v5-c-form-control", name: "from_address", placeholder: "the [Sending] default" }),
        transport: el("input", { class: "pf-v5-c-form-control", name: "transport", placeholder: "the default transport" }),
        html_content: el("textarea", { class: "pf-v5-c-form-control", name: "html_content" }),
        text_content: el("textarea", { class: "pf-v5-c-form-control", name: "text_content", placeholder: "made from the HTML when empty" }),
    };
    const error = el("div", { class: "ct-inline-error", role: "alert" });
    const preview = el("iframe", { class: "ct-preview", sandbox: "", title: "preview", referrerpolicy: "no-referrer" });
    const removed = el("div", { class: "ct-removed" });
    const showPreview = () => manager("SanitizeHtml", [fields.html_content.value], "s").then(([html, gone]) => {
        preview.srcdoc = html;
        removed.textContent = gone.length ? "Removed: " + gone.map(([what, n]) => what + (n > 1 ? " \u00d7" + n : "")).join(", ") : "";
        error.textContent = "";
    }).catch(ex => { error.textContent = words(ex); });
    const save = () => {
        const values = {};
        for (const [k, input] of Object.entries(fields))
            if (input.value !== "" || id !== undefined) values[k] = variant("s", input.value);
        const done = id === undefined
            ? manager("CreateCampaignEx", [values, 0], "a{sv}t").then(([newId, , describe]) => {
                for (const w of plain(describe).warnings || []) alert("warning", "Campaign created", w);
                cockpit.location.go(["campaign", String(newId)]);
            })
            : onCampaign(id, "Update", [values], "a{sv}").then(() => cockpit.location.go(["campaign", String(id)]));
        return done.catch(ex => { error.textContent = words(ex); });
    };
    view.appendChild(el("h1", {}, id === undefined ? "Create campaign" : "Edit campaign"));
    view.appendChild(el("form", { class: "pf-v5-c-form", onsubmit: e => e.preventDefault() },
                        el("label", { for: "name" }, "Name"), fields.name,
                        el("label", {}, "Subject"), fields.subject,
                        el("label", {}, "From"), fields.from_address,
                        el("label", {}, "Transport"), fields.transport,
                        el("label", {}, "HTML"), fields.html_content,
                        el("label", {}, "Plain text"), fields.text_content,
                        el("span", {}), error,
                        el("div", { class: "pf-v5-c-form__actions" },
                           button(id === undefined ? "Create" : "Save", "primary", save, { action: "save" }),
                           button("Preview", "secondary", showPreview, { action: "preview", mutating: false }),
                           button("Back", "link", () => cockpit.location.go(id === undefined ? ["campaigns"] : ["campaign", String(id)]), { mutating: false })),
                        el("label", {}, "Preview"), el("div", {}, preview, removed)));
    if (id !== undefined) {
        onCampaign(id, "Describe").then(([dict]) => {
            const c = plain(dict);
            for (const [k, input] of Object.entries(fields)) input.value = c[k] || "";
            showPreview();
        }).catch(ex => { error.textContent = words(ex); });
    }
}

// ---- routing ------------------------------------------------------------------------------

function route() {
    if (currentView && currentView.dispose) currentView.dispose();
    const view = fill(document.getElementById("view"));
    const path = cockpit.location.path;
    const [first, second, third] = path;
    let tab = "dashboard", dispose;
    if (!first) dispose = dashboardView(view);
    else if (first === "campaigns") { tab = "campaigns"; dispose = campaignsView(view); }
    else if (first === "new") { tab = "campaigns"; campaignForm(view); }
    else if (first === "campaign" && third === "edit") { tab = "campaigns"; campaignForm(view, Number(second)); }
    else if (first === "campaign") { tab = "campaigns"; dispose = campaignView(view, Number(second)); }
    else if (typeof campaigndPeople !== "undefined" && campaigndPeople.views[first]) {
        tab = campaigndPeople.tabOf[first];
        dispose = campaigndPeople.views[first](view, second);
    } else view.appendChild(el("div", { class: "ct-inline-error" }, "No such page."));
    for (const li of document.querySelectorAll(".pf-v5-c-tabs__item"))
        li.classList.toggle("pf-m-current", li.dataset.tab === tab);
    currentView = { dispose };
}

document.addEventListener("DOMContentLoaded", () => {
    manager("GetAccess").then(([dict]) => {
        access = plain(dict);
    }).catch(() => {
        // An older daemon without GetAccess: offer everything; the daemon still decides.
        access = { may_change: true, may_read_personal: true };
    }).finally(() => {
        document.getElementById("access").textContent = access.may_change
            ? "You may change campaigns."
            : access.may_read_personal ? "Read-only: you may read recipients but change nothing."
                : "Read-only: only root and members of the " + (access.admin_group || "campaignd") + " group may change anything.";
        document.body.dataset.mayChange = access.may_change ? "yes" : "no";
        cockpit.addEventListener("locationchanged", route);
        route();
        document.body.dataset.ready = "yes";
    });
});
