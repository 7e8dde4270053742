#!/usr/bin/env node
// The `lico` command. It exists before the build, so npm links it at install time in a checkout
// (`npx lico` then works once `npm run build` has made dist/); the CLI itself is dist/bin.js.
try {
  await import('../dist/bin.js');
} catch (error) {
  if (error?.code === 'ERR_MODULE_NOT_FOUND' && String(error.message).includes('dist/bin.js')) {
    console.error("lico: the CLI is not built yet. In the repository run 'npm run build' (or 'npm run quickstart', which builds first).");
    process.exit(1);
  }
  throw error;
}
