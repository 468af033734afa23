/* people.js: the pages of personal data (recipients searched and paged, a recipient's history,
   groups and their members, the suppression list, bounces) and the CSV import, for
   campaignd.js's router. Lists are read a page at a time from the daemon
   (never a whole list of a million); a user the daemon does not let read personal data sees the
   bus's refusal in its own words. Uses campaignd.js's helpers (el, fill, plain, manager, ...). */
"use strict";

const campaigndPeople = (() => {
    const PAGE = 50;

    /* Previous and next around "first–last [of total]"; with a total (ListRecipientsEx),
       Next stops at the last page; without one, at a page that came back short. */
    function pager(offset, shown, go, total) {
        const last = total !== undefined ? offset + shown >= total : shown < PAGE;
        const previous = button("Previous", "link", () => go(Math.max(0, offset - PAGE)), { mutating: false, action: "previous" });
        const next = button("Next", "link", () => go(offset + PAGE), { mutating: false, action: "next" });
        previous.disabled = offset === 0;
        next.disabled = last;
        return el("div", { class: "ct-pager" }, previous,
                  el("span", { "data-field": "shown" },
                     (shown ? (offset + 1) + "\u2013" + (offset + shown) : "none") + (total !== undefined ? " of " + number(total) : "")),
                  next);
    }

    /* Recipients the daemon searches and pages (ListRecipientsEx, with the total of matches),
       drawn into list: filterOf() gives the a{sv} filter of the moment (no limit or offset),
       show(recipients, total) the table. Returns load(): load(true) starts at the first page.
       Only the latest answer is drawn: an older one (a slower search) is dropped. */
    function recipientPages(list, filterOf, show) {
        let offset = 0;
        let asked = 0;
        const load = first => {
            if (first) offset = 0;
            const mine = ++asked;
            return manager("ListRecipientsEx", [Object.assign({ limit: variant("t", PAGE), offset: variant("t", offset) }, filterOf())], "a{sv}")
                    .then(([rows, total]) => {
                        if (mine !== asked) return;
                        const recipients = rows.map(plain);
                        fill(list, show(recipients, Number(total)),
                             pager(offset, recipients.length, o => { offset = o; load(); }, Number(total)));
                    }).catch(refused(list));
        };
        return load;
    }

    /* A search box that calls run() once typing pauses (and at Enter). */
    function searchBox(name, placeholder, run) {
        const input = el("input", { class: "pf-v5-c-form-control ct-inline", type: "search", name, placeholder, size: 28 });
        let timer = null;
        input.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(run, 300); });
        input.addEventListener("keydown", e => { if (e.key === "Enter") { clearTimeout(timer); run(); } });
        return input;
    }

    /* Addresses typed or pasted: separated by commas, semicolons, spaces or lines. */
    function addresses(text) {
        return text.split(/[\s,;]+/).filter(a => a.length > 0);
    }

    function refused(node) {
        return ex => fill(node, el("div", { class: "ct-inline-error", "data-refused": "yes" }, words(ex)));
    }

    // ---- recipients and the import ----

    function recipientsView(view) {
        const status = el("select", { class: "pf-v5-c-form-control ct-inline", name: "status" },
                          el("option", { value: "" }, "any status"),
                          ["subscribed", "unsubscribed", "bounced"].map(s => el("option", { value: s }, s)));
        const group = el("select", { class: "pf-v5-c-form-control ct-inline", name: "group" }, el("option", { value: "" }, "any group"));
        manager("ListGroups").then(([groups]) => {
            for (const g of groups.map(plain)) group.appendChild(el("option", { value: g.name }, g.name));
        }).catch(() => {});
        const list = el("div", {});
        /* The daemon searches (a substring of the address or the name, any case) and pages:
           the browser never holds more than a page. */
        const load = recipientPages(list, () => {
            const filter = {};
            if (status.value) filter.status = variant("s", status.value);
            if (group.value) filter.group = variant("s", group.value);
            if (search.value) filter.search = variant("s", search.value);
            return filter;
        }, recipients => table(["Address", "Name", "Status", "Groups", "Added"],
                               recipients.map(r => el("tr", { "data-recipient": r.email },
                                                      el("td", {}, el("a", { href: "#/recipient/" + encodeURIComponent(r.email) }, r.email)),
                                                      el("td", {}, r.name),
                                                      el("td", {}, r.status),
                                                      el("td", {}, (r.groups || []).join(", ")),
                                                      el("td", {}, when(r.created_at)))),
                               "No recipients match."));
        const search = searchBox("search", "search address or name", () => load(true));
        status.addEventListener("change", () => load(true));
        group.addEventListener("change", () => load(true));
        view.appendChild(el("div", { class: "ct-toolbar" }, el("h1", {}, "Recipients"), el("span", { class: "ct-spacer" }), search, status, group));
        view.appendChild(list);
        view.appendChild(importCard(load));
        load();
    }

    /* A CSV picked in the browser, handed to the daemon's import (ImportRecipientsData: the
       bridge passes no descriptors), with its progress and its row-level error report. */
    function importCard(reload) {
        const file = el("input", { type: "file", name: "csv", accept: ".csv,.tsv,.txt,text/csv" });
        const group = el("select", { class: "pf-v5-c-form-control ct-inline", name: "import-group" }, el("option", { value: "" }, "no group"));
        manager("ListGroups").then(([groups]) => {
            for (const g of groups.map(plain)) group.appendChild(el("option", { value: g.name }, g.name));
        }).catch(() => {});
        const update = el("input", { type: "checkbox", name: "update" });
        const status = el("div", { "data-field": "import-status" });
        const errors = el("div", { "data-field": "import-errors" });
        let watches = [];
        const stopWatching = () => { watches.forEach(w => w.remove()); watches = []; };
        const start = () => {
            if (!file.files.length) { alert("warning", "Pick a CSV file first"); return; }
            const picked = file.files[0];
            return picked.arrayBuffer().then(buffer => {
                stopWatching();
                let id = null;
                const early = [];  // signals that came before the call's reply named the id
                const onProgress = args => {
                    const [importId, rows, bytes] = args;
                    if (importId !== id) return;
                    const bar = progressBar({ id: 0, recipient_count: picked.size, sent_count: Number(bytes) });
                    fill(status, "Importing: " + number(rows) + " rows read", bar);
                };
                const onFinished = args => {
                    const [importId, state, summary] = args;
                    if (importId !== id) return;
                    stopWatching();
                    const s = plain(summary);
                    fill(status, el("div", { "data-state": state },
                                    state === "done"
                                        ? (s.dry_run ? "Checked: " : "Imported: ") + number(s.imported) + " new, " + number(s.updated) +
                                          " updated, " + number(s.already_stored) + " already stored, " + number(s.invalid) +
                                          " invalid of " + number(s.rows) + " rows"
                                        : "The import " + state + (s.error ? ": " + s.error : "")));
                    const bad = s.errors || [];
                    fill(errors, bad.length
                        ? [el("h3", {}, "Rows refused"),
                           table(["Line", "Reason"], bad.map(([line, reason]) => el("tr", { "data-line": line }, el("td", { class: "ct-number" }, number(line)), el("td", {}, reason))))]
                        : null);
                    reload();
                };
                const signal = (member, handler) => bus.subscribe({ interface: MANAGER, member, path: ROOT }, (path, iface, name, args) => {
                    if (id === null) early.push([handler, args]);
                    else handler(args);
                });
                watches = [signal("ImportProgress", onProgress), signal("ImportFinished", onFinished)];
                const options = { file_name: variant("s", picked.name), update: variant("b", update.checked) };
                if (group.value) options.groups = variant("as", [group.value]);
                fill(status, "Sending " + number(picked.size) + " bytes to the daemon\u2026");
                fill(errors);
                return manager("ImportRecipientsData", [cockpit.base64_encode(new Uint8Array(buffer)), options], "aya{sv}").then(([importId]) => {
                    id = importId;
                    for (const [handler, args] of early.splice(0)) handler(args);
                });
            }).catch(ex => { stopWatching(); fill(status, el("div", { class: "ct-inline-error" }, words(ex))); });
        };
        return el("div", { class: "pf-v5-c-card ct-section" }, el("h2", {}, "Import recipients"),
                  el("p", { class: "ct-figure-note" }, "A CSV file with a header row (email, name, first name and last name, subscription_status, groups). An import is all or nothing and never re-subscribes someone who unsubscribed."),
                  el("div", { class: "ct-toolbar" }, file, "into", group, el("label", {}, update, " update names"),
                     button("Import", "primary", start, { action: "import" })),
                  status, errors);
    }

    // ---- one recipient ----

    function recipientView(view, encoded) {
        const email = decodeURIComponent(encoded || "");
        const body = el("div", {});
        view.appendChild(body);
        const render = () => Promise.all([manager("GetRecipient", [email], "s"), manager("GetRecipientHistory", [email], "s")])
                .then(([[dict], [history]]) => {
                    const r = plain(dict);
                    const h = plain(history);
                    const act = (label, kind, run, action) => button(label, kind, () => run().then(render).catch(failed(label)), { action });
                    fill(body,
                         el("div", { class: "ct-toolbar" }, el("h1", {}, r.email), el("span", { class: "pf-v5-c-label", "data-status": r.status }, r.status),
                            el("span", { class: "ct-spacer" }),
                            r.status === "subscribed" ? act("Unsubscribe", "secondary", () => manager("UnsubscribeRecipient", [email, {}], "sa{sv}"), "unsubscribe") : null,
                            act("Suppress", "secondary", () => manager("AddSuppression", [email], "s"), "suppress"),
                            button("Delete", "danger", () => {
                                if (!window.confirm("Delete " + email + "? An unsubscribed or bounced address stays on the suppression list.")) return;
                                return manager("DeleteRecipientEx", [email, {}], "sa{sv}").then(() => cockpit.location.go(["recipients"])).catch(failed("Delete"));
                            }, { action: "delete" })),
                         el("dl", { class: "ct-description" },
                            el("dt", {}, "Name"), el("dd", {}, r.name || "\u2014"),
                            el("dt", {}, "Groups"), el("dd", {}, (r.groups || []).join(", ") || "\u2014"),
                            el("dt", {}, "Added"), el("dd", {}, when(r.created_at)),
                            r.unsubscribed_at ? [el("dt", {}, "Unsubscribed"), el("dd", {}, when(r.unsubscribed_at) + " (" + r.unsubscribe_source + ")")] : null),
                         el("h2", {}, "Campaigns"),
                         table(["Campaign", "Outcome", "When", { text: "Attempts", class: "ct-number" }, "Reason"],
                               (h.campaigns || []).map(plain).map(c => el("tr", {},
                                   el("td", {}, el("a", { href: "#/campaign/" + c.campaign_id }, c.campaign_name)),
                                   el("td", {}, c.status), el("td", {}, when(c.outcome_at)),
                                   el("td", { class: "ct-number" }, number(c.attempts)), el("td", {}, c.reason))),
                               "Not attached to any campaign."),
                         el("h2", {}, "Bounces"),
                         bounceTable((h.bounces || []).map(plain), "No bounces."),
                         el("h2", {}, "Unsubscribes"),
                         table(["When", "How", "Campaign"],
                               (h.unsubscribes || []).map(plain).map(u => el("tr", {}, el("td", {}, when(u.unsubscribed_at)), el("td", {}, u.source),
                                                                           el("td", {}, u.campaign_id ? el("a", { href: "#/campaign/" + u.campaign_id }, "#" + u.campaign_id) : "\u2014"))),
                               "No unsubscribes recorded."));
                }).catch(refused(body));
        render();
    }

    // ---- groups ----

    function deleteGroup(name, done) {
        if (!window.confirm("Delete group \u201c" + name + "\u201d? Its recipients stay.")) return;
        return manager("DeleteGroup", [name], "s").then(done).catch(failed("Delete group"));
    }

    function groupsView(view) {
        const list = el("div", {});
        const name = el("input", { class: "pf-v5-c-form-control ct-inline", name: "group-name", placeholder: "new group" });
        name.disabled = !access.may_change;
        const load = () => manager("ListGroups").then(([groups]) => {
            fill(list, table(["Group", { text: "Members", class: "ct-number" }, "Created", ""],
                             groups.map(plain).map(g => el("tr", { "data-group": g.name },
                                 el("td", {}, el("a", { href: "#/group/" + encodeURIComponent(g.name) }, g.name)),
                                 el("td", { class: "ct-number" }, number(g.member_count)),
                                 el("td", {}, when(g.created_at)),
                                 el("td", {}, button("Delete", "link", () => deleteGroup(g.name, load), { action: "delete-group" })))),
                             "No groups yet."));
        }).catch(refused(list));
        view.appendChild(el("div", { class: "ct-toolbar" }, el("h1", {}, "Groups"), el("span", { class: "ct-spacer" }), name,
                            button("Create group", "primary", () => manager("CreateGroup", [name.value], "s")
                                    .then(() => { name.value = ""; load(); }).catch(failed("Create group")), { action: "create-group" })));
        view.appendChild(list);
        load();
    }

    /* One group: its members a page at a time (searchable), addresses added, members removed
       (AddGroupMembers and RemoveGroupMembers: all or nothing, the daemon names an address it
       does not store), the group deleted. */
    function groupView(view, encoded) {
        const name = decodeURIComponent(encoded || "");
        const list = el("div", {});
        const count = el("span", { class: "ct-figure-note", "data-field": "member-count" });
        const result = el("div", { "data-field": "group-result" });
        const load = recipientPages(list, () => {
            const filter = { group: variant("s", name) };
            if (search.value) filter.search = variant("s", search.value);
            return filter;
        }, (recipients, total) => {
            if (!search.value) count.textContent = number(total) + (total === 1 ? " member" : " members");
            return table(["Address", "Name", "Status", ""],
                         recipients.map(r => el("tr", { "data-member": r.email },
                                                el("td", {}, el("a", { href: "#/recipient/" + encodeURIComponent(r.email) }, r.email)),
                                                el("td", {}, r.name),
                                                el("td", {}, r.status),
                                                el("td", {}, button("Remove", "link", () => change("RemoveGroupMembers", [r.email]),
                                                                    { action: "remove-member" })))),
                         search.value ? "No members match." : "No members yet.");
        });
        const change = (method, emails) => manager(method, [name, emails], "sas").then(([n]) => {
            fill(result, el("div", { "data-changed": method }, (method === "AddGroupMembers" ? "Added " : "Removed ") + number(n) + " of " + number(emails.length)));
            return load();
        }).catch(ex => fill(result, el("div", { class: "ct-inline-error" }, words(ex))));
        const search = searchBox("search", "search members", () => load(true));
        const adding = el("textarea", { class: "pf-v5-c-form-control ct-addresses", name: "add-members", rows: 3,
                                        placeholder: "addresses of stored recipients, separated by commas, spaces or lines" });
        adding.disabled = !access.may_change;
        view.appendChild(el("div", { class: "ct-toolbar" }, el("h1", {}, name), count, el("span", { class: "ct-spacer" }), search,
                            button("Delete group", "danger", () => deleteGroup(name, () => cockpit.location.go(["groups"])), { action: "delete-group" })));
        view.appendChild(el("div", { class: "pf-v5-c-card ct-section" }, el("h2", {}, "Add members"), adding,
                            el("div", { class: "ct-toolbar" },
                               button("Add", "primary", () => {
                                   const emails = addresses(adding.value);
                                   if (!emails.length) { alert("warning", "Type an address first"); return; }
                                   return change("AddGroupMembers", emails).then(() => { if (!result.querySelector(".ct-inline-error")) adding.value = ""; });
                               }, { action: "add-members" })),
                            result));
        view.appendChild(list);
        load();
    }

    // ---- the suppression list ----

    /* Every address no campaign may mail again, by its keyed hash (the address shows while a
       recipient has it). Paged by the daemon; Next stops at a short page (the list has no
       count). Added entries are "administrator"; removing one lets the address be added or
       imported again. */
    function suppressionsView(view) {
        const list = el("div", {});
        const result = el("div", { "data-field": "suppression-result" });
        const address = el("input", { class: "pf-v5-c-form-control ct-inline", type: "email", name: "suppress-address", placeholder: "address to suppress", size: 32 });
        address.disabled = !access.may_change;
        let offset = 0;
        const load = () => manager("ListSuppressions", [{ limit: variant("t", PAGE), offset: variant("t", offset) }], "a{sv}")
                .then(([rows]) => {
                    const entries = rows.map(plain);
                    fill(list,
                         table(["Address", "Reason", "Since", "Hash", ""],
                               entries.map(e => el("tr", { "data-suppression": e.email || e.hash },
                                                   el("td", {}, e.email || "(no recipient has it)"),
                                                   el("td", {}, e.reason),
                                                   el("td", {}, when(e.suppressed_at)),
                                                   el("td", { class: "ct-hash" }, e.hash.slice(0, 16) + "\u2026"),
                                                   el("td", {}, button("Remove", "link", () => {
                                                       if (!window.confirm("Lift the suppression of " + (e.email || e.hash) + "? The address may then be added or imported again.")) return;
                                                       return manager("RemoveSuppression", [e.hash], "s").then(([removed]) => {
                                                           fill(result, el("div", { "data-changed": "removed" }, removed ? "Lifted." : "It was not listed."));
                                                           return load();
                                                       }).catch(failed("Remove"));
                                                   }, { action: "remove-suppression" })))),
                               "Nobody is suppressed."),
                         pager(offset, entries.length, o => { offset = o; load(); }));
                }).catch(refused(list));
        const add = () => {
            if (!address.value) { alert("warning", "Type an address first"); return; }
            return manager("AddSuppression", [address.value], "s").then(([added, entry]) => {
                const e = plain(entry);
                fill(result, el("div", { "data-changed": added ? "added" : "listed" },
                                added ? "Suppressed " + (e.email || address.value) + "." : (e.email || address.value) + " was listed already (" + e.reason + ")."));
                address.value = "";
                return load();
            }).catch(ex => fill(result, el("div", { class: "ct-inline-error" }, words(ex))));
        };
        address.addEventListener("keydown", e => { if (e.key === "Enter") add(); });
        view.appendChild(el("div", { class: "ct-toolbar" }, el("h1", {}, "Suppression list"), el("span", { class: "ct-spacer" }), address,
                            button("Suppress", "primary", add, { action: "add-suppression" })));
        view.appendChild(el("p", { class: "ct-figure-note" },
                            "No campaign mails these addresses; an add or an import of one is refused. A recipient who has the address is unsubscribed when it is suppressed."));
        view.appendChild(result);
        view.appendChild(list);
        load();
    }

    // ---- bounces ----

    function bounceTable(bounces, empty) {
        return table(["Received", "Recipient", "Reason", "Status", "Hard", "Campaign", "Effect", "Diagnostic"],
                     bounces.map(b => el("tr", { "data-bounce": b.id },
                         el("td", {}, when(b.processed_at)), el("td", {}, b.recipient), el("td", {}, b.reason), el("td", {}, b.status),
                         el("td", {}, b.hard ? "hard" : "soft"),
                         el("td", {}, b.campaign_id ? el("a", { href: "#/campaign/" + b.campaign_id }, "#" + b.campaign_id) : "unmatched"),
                         el("td", {}, b.same_as ? "repeats #" + b.same_as : b.acted ? "acted (" + (b.matched_by || "matched") + ")" : "no effect: not matched"),
                         el("td", {}, b.diagnostic))),
                     empty);
    }

    /* A CSV cell a spreadsheet will not run: a leading = + - @ tab or CR is quoted away, as the
       daemon's own export does (rules/csv). */
    function cell(value) {
        let s = String(value === undefined || value === null ? "" : value);
        if (/^[=+\-@\t\r]/.test(s)) s = "'" + s;
        return /[",\r\n]/.test(s) ? '"' + s.replace(/"/g, '""') + '"' : s;
    }

    function bouncesView(view) {
        const campaign = el("input", { class: "pf-v5-c-form-control ct-inline", name: "campaign", placeholder: "campaign id", size: 10 });
        const reason = el("input", { class: "pf-v5-c-form-control ct-inline", name: "reason", placeholder: "reason, e.g. userunknown", size: 24 });
        const list = el("div", {});
        let offset = 0;
        const filter = () => {
            const f = {};
            if (campaign.value) f.campaign_id = variant("t", Number(campaign.value));
            if (reason.value) f.reason = variant("s", reason.value);
            return f;
        };
        const load = () => manager("ListBounces", [Object.assign(filter(), { limit: variant("t", PAGE), offset: variant("t", offset) })], "a{sv}")
                .then(([rows]) => {
                    const bounces = rows.map(plain);
                    fill(list, bounceTable(bounces, "No bounces match."), pager(offset, bounces.length, o => { offset = o; load(); }));
                }).catch(refused(list));
        /* The export: every matching record, read a page of 10,000 at a time, saved as CSV. */
        const exportCsv = () => {
            const columns = ["campaign_id", "recipient", "reason", "processed_at", "status", "hard", "action", "diagnostic", "remote_mta", "message_id", "source"];
            const lines = [columns.join(",")];
            const more = from => manager("ListBounces", [Object.assign(filter(), { limit: variant("t", 10000), offset: variant("t", from) })], "a{sv}")
                    .then(([rows]) => {
                        for (const b of rows.map(plain))
                            lines.push(columns.map(c => cell(c === "processed_at" ? new Date(Number(b[c]) / 1000).toISOString() : b[c])).join(","));
                        return rows.length === 10000 ? more(from + 10000) : null;
                    });
            return more(0).then(() => {
                const link = el("a", { href: URL.createObjectURL(new Blob([lines.join("\r\n") + "\r\n"], { type: "text/csv" })), download: "bounces.csv" });
                document.body.appendChild(link);
                link.click();
                link.remove();
            }).catch(failed("Export"));
        };
        for (const input of [campaign, reason]) input.addEventListener("change", () => { offset = 0; load(); });
        view.appendChild(el("div", { class: "ct-toolbar" }, el("h1", {}, "Bounces"), el("span", { class: "ct-spacer" }), campaign, reason,
                            button("Export CSV", "secondary", exportCsv, { action: "export", mutating: false })));
        view.appendChild(list);
        load();
    }

    return {
        views: { recipients: recipientsView, recipient: recipientView, groups: groupsView, group: groupView,
                 suppressions: suppressionsView, bounces: bouncesView },
        tabOf: { recipients: "recipients", recipient: "recipients", groups: "groups", group: "groups",
                 suppressions: "suppressions", bounces: "bounces" },
    };
})();
