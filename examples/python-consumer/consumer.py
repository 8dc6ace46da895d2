#!/usr/bin/python3
"""Reads the clinmesh canonical topics with no clinmesh code.

Debian's python3-confluent-kafka (librdkafka) consumes; values are Avro in the Confluent wire
format (magic byte 0, 4-byte big-endian schema id, Avro binary). The writer schema is fetched
from the schema registry by id (GET /schemas/ids/{id}, HTTP basic auth) and decoded with
Debian's python3-avro (Apache Avro). One JSON line per record goes to stdout; a summary line
({"summary": ...}) goes last.

    /usr/bin/python3 consumer.py --bootstrap 127.0.0.1:9092 --registry http://127.0.0.1:8081 \
        --registry-auth "$(node -p "require('./.clinmesh/runtime.json').schemaRegistry.basicAuth")"
"""
import argparse
import base64
import io
import json
import struct
import sys
import time
import urllib.request

import avro.io
import avro.schema
from confluent_kafka import Consumer, KafkaError

TIERS = ["stat", "urgent", "routine", "bulk"]


class Registry:
    """Writer schemas by id, fetched once each (Confluent Schema Registry API)."""

    def __init__(self, url, basic_auth=None):
        self.url = url.rstrip("/")
        self.auth = "Basic " + base64.b64encode(basic_auth.encode()).decode() if basic_auth else None
        self.readers = {}

    def reader(self, schema_id):
        if schema_id not in self.readers:
            request = urllib.request.Request(f"{self.url}/schemas/ids/{schema_id}")
            if self.auth:
                request.add_header("Authorization", self.auth)
            with urllib.request.urlopen(request, timeout=10) as response:
                schema = avro.schema.parse(json.loads(response.read())["schema"])
            self.readers[schema_id] = avro.io.DatumReader(schema)
        return self.readers[schema_id]

    def decode(self, value):
        if value is None or len(value) < 5 or value[0] != 0:
            raise ValueError("not in the Confluent Avro wire format")
        schema_id = struct.unpack(">I", value[1:5])[0]
        return schema_id, self.reader(schema_id).read(avro.io.BinaryDecoder(io.BytesIO(value[5:])))


def summarise(record):
    """What an analyst would look at first: ids and the typed records per family."""
    records = record.get("records") or {}
    return {
        "eventId": record.get("eventId"),
        "epid": record.get("epid"),
        "tier": record.get("tier"),
        "resourceType": record.get("resourceType"),
        "canonicalId": record.get("canonicalId"),
        "records": {family: [r.get("id") for r in items] for family, items in records.items() if items},
        "observations": [
            {
                "id": o.get("id"),
                "codes": [c.get("code") for c in (o.get("code") or {}).get("codings") or []],
                "value": (o.get("valueQuantity") or {}).get("value"),
                "ucum": (o.get("valueQuantity") or {}).get("ucum"),
                "effective": (o.get("effective") or {}).get("instant"),
            }
            for o in records.get("observations") or []
        ],
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bootstrap", required=True, help="Kafka bootstrap servers host:port,...")
    parser.add_argument("--registry", required=True, help="schema registry URL")
    parser.add_argument("--registry-auth", default=None, help="user:password for the registry")
    parser.add_argument("--topics", default=",".join(f"clinical.canonical.{t}" for t in TIERS))
    parser.add_argument("--group", default=f"python-consumer-{int(time.time())}")
    parser.add_argument("--expect", type=int, default=0, help="stop after this many records")
    parser.add_argument("--idle-seconds", type=float, default=15.0, help="stop after this long without a record")
    args = parser.parse_args()

    registry = Registry(args.registry, args.registry_auth)
    consumer = Consumer({
        "bootstrap.servers": args.bootstrap,
        "group.id": args.group,
        "auto.offset.reset": "earliest",
        "enable.auto.commit": False,
        "session.timeout.ms": 6000,
    })
    consumer.subscribe(args.topics.split(","))
    decoded, failed, last = 0, 0, time.monotonic()
    per_topic = {}
    try:
        while time.monotonic() - last < args.idle_seconds and (not args.expect or decoded < args.expect):
            message = consumer.poll(0.5)
            if message is None:
                continue
            if message.error():
                if message.error().code() != KafkaError._PARTITION_EOF:
                    print(json.dumps({"error": str(message.error())}), file=sys.stderr)
                continue
            last = time.monotonic()
            line = {"topic": message.topic(), "partition": message.partition(), "offset": message.offset(),
                    "key": message.key().decode() if message.key() else None}
            try:
                schema_id, record = registry.decode(message.value())
                line.update({"schemaId": schema_id, **summarise(record)})
                decoded += 1
                per_topic[message.topic()] = per_topic.get(message.topic(), 0) + 1
            except Exception as error:  # a record we cannot read is reported, never dropped silently
                line["error"] = str(error)
                failed += 1
            print(json.dumps(line), flush=True)
    finally:
        consumer.close()
    print(json.dumps({"summary": {"decoded": decoded, "failed": failed, "perTopic": per_topic}}), flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
