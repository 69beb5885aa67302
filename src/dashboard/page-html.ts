/** The page shell. Everything else is drawn by the bundled script from the JSON API. */

const escapeHtml = (s: string): string =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

export function pageHtml(opts: { pollMs: number; missingAssets: readonly string[] }): string {
  // Without its bundle the page can still say what is wrong and how to fix it.
  const body = opts.missingAssets.length > 0
    ? `<div class="banner error" id="fatal">The dashboard page is not built: missing ${opts.missingAssets.map(escapeHtml).join(', ')}. Run <code>npm run build</code>, then restart <code>ceiling dashboard</code>.</div>`
    : '<div id="app"><p class="muted">Loading…</p></div><noscript>The dashboard needs JavaScript.</noscript>';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="ceiling-poll-ms" content="${Math.max(100, Math.round(opts.pollMs))}">
<title>ceiling dashboard</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/assets/app.css">
</head>
<body>
${body}
<script type="module" src="/assets/app.js"></script>
</body>
</html>
`;
}
