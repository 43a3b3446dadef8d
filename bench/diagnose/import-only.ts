/** Diagnostic helper: imports the modules named in IMPORTS (comma-separated), prints ready, idles. */
for (const m of (process.env['IMPORTS'] ?? '').split(',').filter(Boolean)) await import(m);
process.stdout.write('ready\n');
setInterval(() => {}, 1 << 30);
