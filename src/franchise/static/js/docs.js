// Starts the vendored Swagger UI on /docs; kept in a file so the page's CSP needs no inline script.
window.addEventListener("DOMContentLoaded", function () {
  window.SwaggerUIBundle({ url: "/openapi.json", dom_id: "#swagger-ui", deepLinking: true });
});
