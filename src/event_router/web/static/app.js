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

  function number(value) {
    return value === null || value === undefined ? "–" : Number(value).toLocaleString("en");
  }

  function setText(element, text) {
    if (element && element.textContent !== text) element.textContent = text;
  }

  // -- dashboard ---------------------------------------------------------------------------------

  function startDashboard(live) {
    const updated = document.getElementById("updated");
    const rows = {};
    document.querySelectorAll("tr[data-consumer]").forEach(function (row) {
      rows[row.getAttribute("data-consumer")] = row;
    });
    let previous = null;

    function field(row, name) {
      return row.querySelector('[data-field="' + name + '"]');
    }

    function show(data, now) {
      setText(document.querySelector('[data-journal="head"]'), number(data.journal.head));
      setText(document.querySelector('[data-journal="events"]'), number(data.journal.events));
      setText(document.querySelector('[data-ingest="accepted"]'), number(data.ingest.accepted));
      setText(document.querySelector('[data-ingest="rejected"]'), number(data.ingest.rejected));
      const names = Object.keys(data.consumers);
      if (names.length !== Object.keys(rows).length || names.some((n) => !(n in rows))) {
        window.location.reload(); // consumers were added or removed: render the table anew
        return;
      }
      names.forEach(function (name) {
        const c = data.consumers[name];
        const row = rows[name];
        const state = field(row, "state");
        setText(state, c.state);
        state.className = "state state-" + String(c.state).replace(/ /g, "-");
        setText(field(row, "delivered"), number(c.delivered || 0));
        setText(field(row, "pending"), number(c.pending));
        setText(field(row, "in_flight"), number(c.in_flight || 0));
        setText(field(row, "dead_letters_open"), number(c.dead_letters_open));
        const latency = c.latency_ms;
        setText(
          field(row, "latency"),
          latency && latency.p50 !== null
            ? latency.p50 + " · " + latency.p90 + " · " + latency.p99 + " ms"
            : "–"
        );
        let error = c.last_error || "";
        if (error && c.last_error_at) {
          error = new Date(c.last_error_at * 1000).toLocaleTimeString() + " " + error;
        }
        setText(field(row, "last_error"), error);
        if (previous && previous.delivered[name] !== undefined) {
          const seconds = (now - previous.at) / 1000;
          const rate = Math.max(0, (c.delivered || 0) - previous.delivered[name]) / seconds;
          setText(field(row, "throughput"), rate.toFixed(rate < 10 ? 1 : 0) + " /s");
        }
      });
      const delivered = {};
      names.forEach((name) => (delivered[name] = data.consumers[name].delivered || 0));
      previous = { at: now, delivered: delivered };
    }

    async function tick() {
      try {
        const response = await fetch(live.getAttribute("data-status-url"), {
          credentials: "same-origin",
          headers: { Accept: "application/json" },
        });
        if (response.status === 401) {
          window.location.href = "/login?next=/";
          return;
        }
        if (!response.ok) throw new Error("HTTP " + response.status);
        show(await response.json(), Date.now());
        live.classList.remove("stale");
        setText(updated, "updated " + new Date().toLocaleTimeString());
      } catch (error) {
        live.classList.add("stale");
        setText(updated, "cannot reach the router (" + error.message + ")");
      }
      window.setTimeout(tick, 2000);
    }
    tick();
  }

  const live = document.getElementById("live");
  if (live) startDashboard(live);

  // -- test connection ---------------------------------------------------------------------------

  const test = document.getElementById("test-connection");
  if (test) {
    const out = document.getElementById("test-result");
    test.addEventListener("click", async function () {
      test.disabled = true;
      out.className = "result";
      out.textContent = "Testing…";
      try {
        const response = await fetch(test.getAttribute("data-url"), {
          method: "POST",
          credentials: "same-origin",
          headers: { "X-CSRF-Token": csrf, Accept: "application/json" },
        });
        const data = await response.json();
        out.textContent = "";
        if (!response.ok) {
          out.className = "result bad";
          out.textContent = data.error || "HTTP " + response.status;
          return;
        }
        out.className = "result " + (data.ok ? "good" : "bad");
        const head = document.createElement("strong");
        head.textContent = (data.ok ? "✓ " : "✗ ") + data.verdict;
        const facts = document.createElement("div");
        const status = data.status === null ? "no answer" : "HTTP " + data.status;
        const latency = data.latency_ms === null ? "" : " · " + data.latency_ms + " ms";
        facts.textContent = status + latency;
        const request = document.createElement("div");
        request.className = "sub";
        request.textContent = data.request;
        out.append(head, facts, request);
        if (data.body) {
          const body = document.createElement("pre");
          body.textContent = data.body;
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
