const { Kafka, logLevel } = require('kafkajs');
const bs = process.argv[2];
(async () => {
  const k = new Kafka({ brokers: bs.split(','), logLevel: logLevel.WARN });
  const p = k.producer(); await p.connect();
  const t0 = Date.now();
  for (let i=0;i<20;i++) await p.send({ topic: 't1', acks: -1, messages: Array.from({length: 500}, (_, j) => ({ key: 'k'+j, value: 'v'+i+'-'+j })) });
  console.log('produced 10000 in', Date.now()-t0);
  const admin = k.admin(); await admin.connect();
  console.log(JSON.stringify(await admin.fetchTopicOffsets('t1')));
  const cons = k.consumer({ groupId: 'g1', sessionTimeout: 6000 , heartbeatInterval: 500});
  await cons.connect(); await cons.subscribe({ topic: 't1', fromBeginning: true });
  let n=0; const t1=Date.now();
  await new Promise(res => cons.run({ eachBatch: async ({batch}) => { n+=batch.messages.length; if (n>=10000) res(); } }));
  console.log('consumed', n, Date.now()-t1);
  process.exit(0);
})().catch(e => { console.error(e); process.exit(1); });
