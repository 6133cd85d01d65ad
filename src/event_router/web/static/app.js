// Event Router admin UI: live dashboard figures, "Test connection", small form helpers.
// Loaded on every page; each part only acts when its elements are present.
(function () {
  "use strict";

  const csrf = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";

  // Forms that ask before doing something destructive.
  document.addEventListener("submit", function (event) {
    const message = event.target.getAttribute("data-confirm");
    if (message && !window.confirm(message)) event.preventDefault();
  });

  // "Select all" on the dead-letter list.
  const selectAll = document.getElementById("select-all");
  if (selectAll) {
    selectAll.addEventListener("change", function () {
      document.querySelectorAll('#letters input[name="id"]').forEach(function (box) {
        box.checked = selectAll.checked;
      });
    });
  }

  // A page showing something under way (a backfill) reloads itself while it runs.
  const refresh = document.querySelector("[data-refresh]");
  if (refresh) {
    window.setTimeout(function () {
      window.location.reload();
    }, Number(refresh.getAttribute("data-refresh")) || 2000);
  }

  function number(value) {
    return value === null || value === undefined ? "–" : Number(value).toLocaleString("en");
  }

  function setText(element, text) {
    if (element && element.textContent !== text) element.textContent = text;
  }

  // -- live figures: the dashboard's rows and a consumer's own page -----------------------------

  // A latency for people (ui.py `duration` says the same): 0.4 ms, 12 ms, 1.2 s, 2.5 min.
  function duration(ms) {
    if (ms === null || ms === undefined) return "–";
    if (ms < 10) return ms.toFixed(1) + " ms";
    if (ms < 1000) return Math.round(ms) + " ms";
    if (ms < 60000) return (ms / 1000).toFixed(1) + " s";
    return (ms / 60000).toFixed(1) + " min";
  }

  // Tracking-log lines and bus messages refused as malformed (web/status.py `rejected_lines`).
  function rejectedLines(sourceCounts) {
    let total = 0;
    Object.values(sourceCounts || {}).forEach(function (counts) {
      total += (counts.rejected || 0) + (counts.malformed || 0);
    });
    return total;
  }

  function startLive(live) {
    const updated = document.getElementById("updated");
    const table = document.getElementById("consumers");
    const rows = {};
    document.querySelectorAll("[data-consumer]").forEach(function (row) {
      if (!row.matches("article")) rows[row.getAttribute("data-consumer")] = row;
    });
    let previous = null;

    function field(row, name) {
      return row.querySelector('[data-field="' + name + '"]');
    }

    function setState(row, state) {
      const badge = field(row, "state");
      setText(badge, state);
      badge.className = "state state-" + String(state).replace(/ /g, "-");
    }

    function showError(row, c) {
      const cell = field(row, "last_error");
      if (!cell) return;
      let text = c.last_error || "";
      if (text && c.last_error_at) {
        text = new Date(c.last_error_at * 1000).toLocaleTimeString() + " " + text;
      }
      if (!text && cell.tagName === "DD") text = "none";
      const resolved = Boolean(c.last_error && c.last_error_resolved);
      cell.classList.toggle("resolved", resolved);
      const shown = (resolved ? "resolved " : "") + text;
      if (cell.textContent.replace(/\s+/g, " ").trim() === shown.trim()) return;
      cell.textContent = "";
      if (resolved) {
        const badge = document.createElement("span");
        badge.className = "badge resolved";
        badge.textContent = "resolved";
        cell.append(badge, " ");
      }
      cell.append(text);
    }

    function show(data, now) {
      setText(document.querySelector('[data-journal="head"]'), number(data.journal.head));
      setText(document.querySelector('[data-journal="events"]'), number(data.journal.events));
      setText(document.querySelector('[data-ingest="accepted"]'), number(data.ingest.accepted));
      setText(document.querySelector('[data-ingest="rejected"]'), number(data.ingest.rejected));
      setText(
        document.querySelector('[data-ingest="rejected_lines"]'),
        number(rejectedLines(data.source_counts))
      );
      const names = Object.keys(data.consumers);
      if (
        table &&
        (names.length !== Object.keys(rows).length || names.some((n) => !(n in rows)))
      ) {
        window.location.reload(); // consumers were added or removed: render the table anew
        return;
      }
      Object.keys(rows).forEach(function (name) {
        const c = data.consumers[name];
        const row = rows[name];
        if (!c) return; // (a consumer page whose consumer was just removed)
        setState(row, c.state);
        setText(field(row, "delivered"), number(c.delivered || 0));
        setText(field(row, "pending"), number(c.pending));
        setText(field(row, "in_flight"), number(c.in_flight || 0));
        setText(field(row, "skipped"), number(c.skipped || 0));
        setText(field(row, "untranslatable"), number(c.untranslatable || 0));
        setText(field(row, "retries"), number(c.retries || 0));
        setText(field(row, "dead_letters_open"), number(c.dead_letters_open));
        const latency = c.latency_ms;
        setText(
          field(row, "latency"),
          latency && latency.p50 !== null
            ? duration(latency.p50) + " · " + duration(latency.p90) + " · " + duration(latency.p99)
            : "–"
        );
        showError(row, c);
        if (c.stream) {
          // A stream consumer: its subscribers and the furthest one's lag (consumer page).
          setText(field(row, "subscribers"), number(c.stream.subscribers));
          setText(field(row, "subscriber_lag"), number(c.stream.max_lag));
        }
        const throughput = field(row, "throughput");
        if (throughput && previous && previous.delivered[name] !== undefined) {
          const seconds = (now - previous.at) / 1000;
          const rate = Math.max(0, (c.delivered || 0) - previous.delivered[name]) / seconds;
          setText(throughput, rate.toFixed(rate < 10 ? 1 : 0) + " /s");
        }
      });
      const delivered = {};
      names.forEach((name) => (delivered[name] = data.consumers[name].delivered || 0));
      previous = { at: now, delivered: delivered };
    }

    // The router cannot be reached: no row may keep claiming "running".
    function unknown() {
      document.body.classList.add("stale-figures");
      Object.keys(rows).forEach(function (name) {
        setState(rows[name], "unknown");
        setText(field(rows[name], "throughput"), "–");
      });
      previous = null;
    }

    async function tick() {
      try {
        const response = await fetch(live.getAttribute("data-status-url"), {
          credentials: "same-origin",
          headers: { Accept: "application/json" },
        });
        if (response.status === 401) {
          window.location.href = "/login?next=" + encodeURIComponent(window.location.pathname);
          return;
        }
        if (!response.ok) throw new Error("HTTP " + response.status);
        show(await response.json(), Date.now());
        live.classList.remove("stale");
        document.body.classList.remove("stale-figures");
        setText(updated, "updated " + new Date().toLocaleTimeString());
      } catch (error) {
        live.classList.add("stale");
        unknown();
        setText(updated, "cannot reach the router (" + error.message + ")");
      }
      window.setTimeout(tick, 2000);
    }
    tick();
  }

  const live = document.getElementById("live");
  if (live) startLive(live);

  // -- the consumer form: fields by protocol, transport and auth; event picker; route preview ----

  const consumerForm = document.querySelector("form.consumer-form");

  function fieldValue(name) {
    const element = consumerForm.elements.namedItem(name);
    return element ? element.value : "";
  }

  // The transport used when none is chosen (routing/consumer.py says the same).
  function effectiveSink() {
    const chosen = fieldValue("sink");
    if (chosen) return chosen;
    return { xapi: "lrs", caliper: "caliper" }[fieldValue("protocol")] || "webhook";
  }

  function applyVisibility() {
    const sink = effectiveSink();
    const authApplies = sink !== "archive";
    const state = {
      protocol: fieldValue("protocol"),
      sink: sink,
      auth: authApplies ? fieldValue("auth") : "none",
    };
    consumerForm.querySelectorAll("[data-show-when]").forEach(function (element) {
      let rule = {};
      try {
        rule = JSON.parse(element.getAttribute("data-show-when"));
      } catch (error) {
        return;
      }
      const applies = Object.keys(rule).every((key) => rule[key].indexOf(state[key]) >= 0);
      // A field with a problem stays visible: its message must be seen.
      element.hidden = !applies && !element.classList.contains("invalid");
    });
  }

  // Mark problems at their fields (aria-invalid and a message beside each), as the server does.
  function markErrors(errors) {
    consumerForm.querySelectorAll(".message.js").forEach((node) => node.remove());
    Object.keys(errors).forEach(function (name) {
      const input = document.getElementById("f-" + name);
      if (!input) return;
      const wrapper = input.closest(".field");
      wrapper.classList.add("invalid");
      wrapper.hidden = false;
      let message = document.getElementById("e-" + name);
      if (!message) {
        message = document.createElement("p");
        message.className = "message js";
        message.id = "e-" + name;
        input.insertAdjacentElement("afterend", message);
      }
      message.textContent = errors[name];
      input.setAttribute("aria-invalid", "true");
      input.setAttribute("aria-describedby", message.id);
    });
  }

  function lines(name) {
    return fieldValue(name)
      .split("\n")
      .map((line) => line.trim())
      .filter((line) => line);
  }

  async function previewRoute() {
    const box = document.getElementById("route-preview");
    const out = document.getElementById("route-preview-result");
    const params = {};
    lines("match_params").forEach(function (line) {
      const at = line.indexOf("=");
      if (at > 0) params[line.slice(0, at).trim()] = line.slice(at + 1).trim();
    });
    const body = {
      protocol: fieldValue("protocol"),
      route: {
        allow: lines("allow"),
        deny: lines("deny"),
        courses: lines("courses"),
        orgs: lines("orgs"),
        sites: lines("sites"),
        users: lines("users"),
        match_params: params,
      },
    };
    out.textContent = "Looking at recent events…";
    try {
      const response = await fetch(box.getAttribute("data-url"), {
        method: "POST",
        credentials: "same-origin",
        headers: { "X-CSRF-Token": csrf, Accept: "application/json", "Content-Type": "application/json" },
        body: JSON.stringify(body),
      });
      const data = await response.json();
      out.textContent = "";
      if (!response.ok) {
        const bad = document.createElement("p");
        bad.className = "message";
        bad.textContent = (data.errors || [data.error]).join("; ");
        out.append(bad);
        return;
      }
      const head = document.createElement("p");
      head.id = "route-preview-summary";
      head.textContent = data.scanned
        ? data.matched + " of the last " + data.scanned + " journal events match this route."
        : "The journal holds no recent events to try the route on.";
      out.append(head);
      (data.hints || []).forEach(function (hint) {
        const p = document.createElement("p");
        p.className = "alert bad hint";
        p.textContent = hint;
        out.append(p);
      });
      if (data.note) {
        const note = document.createElement("p");
        note.className = "help";
        note.textContent = data.note;
        out.append(note);
      }
      if (data.names && data.names.length) {
        const list = document.createElement("ul");
        data.names.slice(0, 20).forEach(function (row) {
          const item = document.createElement("li");
          item.textContent =
            (row.matched ? "✓ " : "✗ ") + row.name + ": " + row.matched + " of " + row.events +
            " (" + row.rule + ")";
          list.append(item);
        });
        out.append(list);
      }
    } catch (error) {
      out.textContent = "The router did not answer: " + error.message;
    }
  }

  if (consumerForm) {
    applyVisibility();
    ["protocol", "sink", "auth"].forEach(function (name) {
      const element = consumerForm.elements.namedItem(name);
      if (element) element.addEventListener("change", applyVisibility);
    });
    const pick = document.getElementById("f-event-pick");
    consumerForm.querySelectorAll("[data-add-to]").forEach(function (button) {
      button.addEventListener("click", function () {
        const name = pick.value.trim();
        if (!name) return;
        const target = document.getElementById("f-" + button.getAttribute("data-add-to"));
        target.value = (target.value.trim() ? target.value.trim() + "\n" : "") + name;
        pick.value = "";
        previewRoute();
      });
    });
    const previewButton = document.getElementById("preview-route");
    if (previewButton) previewButton.addEventListener("click", previewRoute);
    let pending = null;
    consumerForm.querySelectorAll("[data-route]").forEach(function (area) {
      area.addEventListener("input", function () {
        window.clearTimeout(pending);
        pending = window.setTimeout(previewRoute, 600);
      });
    });
  }

  // -- test connection: the values in the form, saved or not ----------------------------------

  const test = document.getElementById("test-connection");
  if (test && consumerForm) {
    const out = document.getElementById("test-result");
    test.addEventListener("click", async function () {
      test.disabled = true;
      out.className = "result";
      out.textContent = "Testing…";
      const data = new FormData(consumerForm);
      data.set("existing", test.getAttribute("data-existing") || "");
      try {
        const response = await fetch(test.getAttribute("data-url"), {
          method: "POST",
          credentials: "same-origin",
          headers: { "X-CSRF-Token": csrf, Accept: "application/json" },
          body: data,
        });
        const answer = await response.json();
        out.textContent = "";
        if (!response.ok) {
          out.className = "result bad";
          if (answer.errors) {
            markErrors(answer.errors);
            const problems = Object.keys(answer.errors).map((k) => k + ": " + answer.errors[k]);
            out.textContent =
              "Not tested: fix the marked fields first. " + problems.concat(answer.general || []).join("; ");
          } else {
            out.textContent = answer.error || "HTTP " + response.status;
          }
          return;
        }
        out.className = "result " + (answer.ok ? "good" : "bad");
        const head = document.createElement("strong");
        head.textContent = (answer.ok ? "✓ " : "✗ ") + answer.verdict;
        const facts = document.createElement("div");
        const status = answer.status === null ? "no answer" : "HTTP " + answer.status;
        const latency = answer.latency_ms === null ? "" : " · " + answer.latency_ms + " ms";
        facts.textContent = status + latency;
        const request = document.createElement("div");
        request.className = "sub";
        request.textContent = answer.request;
        out.append(head, facts, request);
        if (answer.body) {
          const body = document.createElement("pre");
          body.textContent = answer.body;
          out.append(body);
        }
      } catch (error) {
        out.className = "result bad";
        out.textContent = "The router did not answer: " + error.message;
      } finally {
        test.disabled = false;
      }
    });
  }
})();
