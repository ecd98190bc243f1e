-- otscope central inventory, schema version 1.
-- Every table lives in the schema "otscope". A sensor is one jump host (or one
-- laptop) pushing sessions of one site; its rows are replaced by each push of
-- its session, and nothing a sensor pushed is touched by another sensor.

CREATE TABLE otscope.site (
    id         bigserial PRIMARY KEY,
    name       text NOT NULL UNIQUE,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE otscope.sensor (
    id            bigserial PRIMARY KEY,
    site_id       bigint NOT NULL REFERENCES otscope.site(id) ON DELETE CASCADE,
    name          text NOT NULL,
    session       text NOT NULL,
    otscope       text NOT NULL DEFAULT '',
    last_push     timestamptz,
    push_complete boolean NOT NULL DEFAULT false,
    UNIQUE (site_id, name)
);

-- One row per asset as the sensor's session holds it: the record as JSON
-- without its facts (they are rows of otscope.fact), the SHA-256 of the
-- whole record with its facts (what a push compares), and the identity
-- columns the queries filter on.
CREATE TABLE otscope.asset (
    sensor_id    bigint NOT NULL REFERENCES otscope.sensor(id) ON DELETE CASCADE,
    site_id      bigint NOT NULL REFERENCES otscope.site(id) ON DELETE CASCADE,
    asset_id     text NOT NULL,
    hash         bytea NOT NULL,
    macs         text[] NOT NULL DEFAULT '{}',
    ips          inet[] NOT NULL DEFAULT '{}',
    vendor       text NOT NULL DEFAULT '',
    product      text NOT NULL DEFAULT '',
    order_number text NOT NULL DEFAULT '',
    serial       text NOT NULL DEFAULT '',
    firmware     text NOT NULL DEFAULT '',
    last_seen    timestamptz,
    data         json NOT NULL, -- json keeps the text: no conversion on the way out
    PRIMARY KEY (sensor_id, asset_id)
);
CREATE INDEX asset_site ON otscope.asset (site_id);
CREATE INDEX asset_macs ON otscope.asset USING gin (macs);
CREATE INDEX asset_ips ON otscope.asset USING gin (ips);
CREATE INDEX asset_order_number ON otscope.asset (order_number) WHERE order_number <> '';
CREATE INDEX asset_serial ON otscope.asset (serial) WHERE serial <> '';

-- Every fact with its full provenance; the key is the provenance, so a fact
-- pushed twice is one row.
CREATE TABLE otscope.fact (
    sensor_id bigint NOT NULL,
    asset_id  text NOT NULL,
    field     text NOT NULL,
    value     text NOT NULL,
    kind      text NOT NULL,
    protocol  text NOT NULL,
    origin    text NOT NULL,
    frame     bigint NOT NULL DEFAULT 0,
    ip        inet,
    seen_at   timestamptz,
    last_seen timestamptz,
    count     bigint NOT NULL DEFAULT 0,
    detail    text NOT NULL DEFAULT '',
    ord       int NOT NULL DEFAULT 0, -- the fact's place in the asset's list
    PRIMARY KEY (sensor_id, asset_id, field, value, kind, protocol, origin, frame),
    FOREIGN KEY (sensor_id, asset_id) REFERENCES otscope.asset(sensor_id, asset_id) ON DELETE CASCADE
);
CREATE INDEX fact_field_value ON otscope.fact (field, value);

-- Everything else a bundle holds (conversations, capture statistics, the
-- scan log, waivers, state history, walkdown data, the documented
-- inventory), one row per record, keyed by the record's type and its key
-- within the session.
CREATE TABLE otscope.record (
    sensor_id bigint NOT NULL REFERENCES otscope.sensor(id) ON DELETE CASCADE,
    type      text NOT NULL,
    key       text NOT NULL,
    hash      bytea NOT NULL,
    data      json NOT NULL, -- json, not jsonb: the record's bytes come back as they went
    PRIMARY KEY (sensor_id, type, key)
);

-- One row per push: when, from where, what it sent.
CREATE TABLE otscope.push (
    id          bigserial PRIMARY KEY,
    sensor_id   bigint NOT NULL REFERENCES otscope.sensor(id) ON DELETE CASCADE,
    started_at  timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz,
    sent        jsonb NOT NULL DEFAULT '{}'
);
