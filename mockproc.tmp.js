const ts = require('/work/main/node_modules/typescript');
const src = require('fs').readFileSync('/work/main/libs/embedded-platform/src/kafka/librdkafka-mock.ffi.ts','utf8');
const out = ts.transpileModule(src, {compilerOptions:{module:1, esModuleInterop:true, target:9}}).outputText;
const m = {exports:{}}; new Function('module','exports','require', out)(m, m.exports, require);
const b = m.exports.loadMockClusterBinding();
const c = b.newCluster(3);
b.createTopic(c.handle, 't1', 4, 3);
console.log(c.bootstraps);
setInterval(()=>{}, 1000);
