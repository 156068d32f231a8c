// Starts Swagger UI on /docs from a file of its own (no inline script, so CSP 'self' holds).
"use strict";
(function () {
  var root = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: root.getAttribute("data-openapi-url"),
    dom_id: "#swagger-ui",
    deepLinking: true,
    // the key stays in this page's memory only, never in the browser's storage
    persistAuthorization: false,
    // no validator badge: it would call a service on the internet
    validatorUrl: null,
  });
})();
