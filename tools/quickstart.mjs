// The main job: `npm run quickstart` builds the packages, then runs `lico quickstart` from the
// built @lico/cli. Arguments after `--` are passed on (e.g. `npm run quickstart -- --resume`).
process.env.LICO_QUICKSTART_RESUME_HINT ??= 'npm run quickstart -- --resume';
const { runCliProcess } = await import('@lico/cli');
await runCliProcess(['quickstart', ...process.argv.slice(2)]);
