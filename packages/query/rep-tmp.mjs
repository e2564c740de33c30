import { DuckDBInstance } from '@duckdb/node-api';
const inst = await DuckDBInstance.create(':memory:');
const c = await inst.connect();
await c.run("SET memory_limit='256MB'"); await c.run('SET threads=1');
const sql = process.argv[2];
const rss = () => Math.round(process.memoryUsage().rss/1e6);
console.log('rss before', rss());
let peak = 0; const t = setInterval(()=>{peak=Math.max(peak,rss())},20);
const t0=Date.now();
if (process.argv[3]) setTimeout(()=>{console.log('interrupt at', Date.now()-t0); c.interrupt();}, Number(process.argv[3]));
try { const r = await c.runAndReadAll(sql); console.log(r.getRowsJS()); } catch(e) { console.log('ERR', e.message.slice(0,300)); }
clearInterval(t);
console.log('ms', Date.now()-t0, 'peak rss', peak, 'after', rss());
