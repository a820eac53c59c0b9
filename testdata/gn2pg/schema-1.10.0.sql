-- Schema created by gn2pg-client 1.10.0 (`gn2pg_cli db --json-tables-create` for 1.9.1, `db --upgrade`
-- for 1.10.0), dumped with pg_dump -s; the schema is named gn2pg_import (tests replace it).
CREATE SCHEMA gn2pg_import;
CREATE TABLE gn2pg_import.alembic_version (
    version_num character varying(32) NOT NULL
);
CREATE TABLE gn2pg_import.data_json (
    source character varying NOT NULL,
    controler character varying NOT NULL,
    type character varying NOT NULL,
    id_data integer NOT NULL,
    uuid uuid,
    item jsonb NOT NULL,
    update_ts timestamp without time zone DEFAULT now() NOT NULL,
    import_id integer
);
CREATE TABLE gn2pg_import.error_log (
    source character varying NOT NULL,
    uuid uuid NOT NULL,
    controler character varying NOT NULL,
    last_ts timestamp without time zone DEFAULT now() NOT NULL,
    item jsonb,
    error character varying,
    import_id integer
);
CREATE TABLE gn2pg_import.import_log (
    id integer NOT NULL,
    source character varying NOT NULL,
    controler character varying NOT NULL,
    xfer_type character varying,
    xfer_status character varying,
    xfer_start_ts timestamp without time zone NOT NULL,
    xfer_end_ts timestamp without time zone,
    api_count_items integer DEFAULT 0 NOT NULL,
    api_count_errors integer DEFAULT 0 NOT NULL,
    data_count_upserts integer DEFAULT 0 NOT NULL,
    data_count_delete integer DEFAULT 0 NOT NULL,
    data_count_errors integer DEFAULT 0 NOT NULL,
    metadata_count_upserts integer DEFAULT 0 NOT NULL,
    metadata_count_errors integer DEFAULT 0 NOT NULL,
    xfer_filters jsonb DEFAULT '{}'::jsonb,
    comment text
);
CREATE SEQUENCE gn2pg_import.import_log_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;
ALTER SEQUENCE gn2pg_import.import_log_id_seq OWNED BY gn2pg_import.import_log.id;
CREATE TABLE gn2pg_import.metadata_json (
    source character varying NOT NULL,
    controler character varying NOT NULL,
    type character varying NOT NULL,
    level character varying NOT NULL,
    uuid uuid NOT NULL,
    item jsonb NOT NULL,
    update_ts timestamp without time zone DEFAULT now() NOT NULL,
    import_id integer
);
ALTER TABLE ONLY gn2pg_import.import_log ALTER COLUMN id SET DEFAULT nextval('gn2pg_import.import_log_id_seq'::regclass);
ALTER TABLE ONLY gn2pg_import.alembic_version
    ADD CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num);
ALTER TABLE ONLY gn2pg_import.import_log
    ADD CONSTRAINT import_log_pkey PRIMARY KEY (id);
ALTER TABLE ONLY gn2pg_import.metadata_json
    ADD CONSTRAINT metadata_unique_uuid UNIQUE (uuid);
ALTER TABLE ONLY gn2pg_import.data_json
    ADD CONSTRAINT pk_source_data PRIMARY KEY (id_data, source, type);
ALTER TABLE ONLY gn2pg_import.metadata_json
    ADD CONSTRAINT pk_source_metadata PRIMARY KEY (uuid, source);
ALTER TABLE ONLY gn2pg_import.data_json
    ADD CONSTRAINT unique_uuid UNIQUE (uuid);
CREATE INDEX ix_gn2pg_import_data_json_id_data ON gn2pg_import.data_json USING btree (id_data);
CREATE INDEX ix_gn2pg_import_data_json_uuid ON gn2pg_import.data_json USING btree (uuid);
CREATE INDEX ix_gn2pg_import_error_log_import_id ON gn2pg_import.error_log USING btree (import_id);
CREATE INDEX ix_gn2pg_import_error_log_uuid ON gn2pg_import.error_log USING btree (uuid);
CREATE INDEX ix_gn2pg_import_import_log_source ON gn2pg_import.import_log USING btree (source);
CREATE INDEX ix_gn2pg_import_import_log_xfer_type ON gn2pg_import.import_log USING btree (xfer_type);
CREATE INDEX ix_gn2pg_import_metadata_json_uuid ON gn2pg_import.metadata_json USING btree (uuid);
ALTER TABLE ONLY gn2pg_import.data_json
    ADD CONSTRAINT data_json_import_id_fkey FOREIGN KEY (import_id) REFERENCES gn2pg_import.import_log(id) ON UPDATE CASCADE;
ALTER TABLE ONLY gn2pg_import.error_log
    ADD CONSTRAINT error_log_import_id_fkey FOREIGN KEY (import_id) REFERENCES gn2pg_import.import_log(id) ON UPDATE CASCADE ON DELETE CASCADE;
ALTER TABLE ONLY gn2pg_import.metadata_json
    ADD CONSTRAINT metadata_json_import_id_fkey FOREIGN KEY (import_id) REFERENCES gn2pg_import.import_log(id) ON UPDATE CASCADE;
INSERT INTO gn2pg_import.alembic_version (version_num) VALUES ('20260818_01');
