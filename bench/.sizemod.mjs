import { measureSizes } from '/work/main/bench/size.mjs';
const s = await measureSizes();
for (const [k, v] of Object.entries(s)) console.log(k, v.minified, v.gzip, v.budget);
if (process.argv[2]) for (const i of s[process.argv[2]].inputs) console.log('  ', i.path, i.bytes);
