// The API docs page (/api/docs): Swagger UI on this router's OpenAPI document. A file of its own
// rather than an inline script, so the page's Content-Security-Policy needs no 'unsafe-inline'.
(function () {
  "use strict";
  window.ui = SwaggerUIBundle({
    url: "/api/openapi.json",
    dom_id: "#swagger-ui",
    deepLinking: true,
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
  });
})();
