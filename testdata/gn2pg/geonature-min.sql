-- The smallest part of a GeoNature 2.15 database that gn2pg-client's to_gnsynthese.sql needs to
-- place rows of the synthese_with_cd_nomenclature kind (written for the tests, from the columns
-- and functions the script uses; not GeoNature's DDL). Needs PostGIS. tests/gn2pg.rs loads it,
-- then init-db and the script.
CREATE EXTENSION IF NOT EXISTS postgis;

CREATE SCHEMA ref_nomenclatures;
CREATE TABLE ref_nomenclatures.bib_nomenclatures_types (
    id_type serial PRIMARY KEY,
    mnemonique varchar(255) UNIQUE NOT NULL
);
CREATE TABLE ref_nomenclatures.t_nomenclatures (
    id_nomenclature serial PRIMARY KEY,
    id_type int NOT NULL REFERENCES ref_nomenclatures.bib_nomenclatures_types,
    cd_nomenclature varchar(255) NOT NULL,
    label_default varchar(255) NOT NULL
);
CREATE FUNCTION ref_nomenclatures.get_id_nomenclature_type(mytype varchar) RETURNS int
LANGUAGE sql IMMUTABLE AS
$$ SELECT id_type FROM ref_nomenclatures.bib_nomenclatures_types WHERE mnemonique = mytype $$;
-- No defaults configured: a missing code gives NULL, as on a fresh GeoNature.
CREATE FUNCTION ref_nomenclatures.get_default_nomenclature_value(mytype varchar) RETURNS int
LANGUAGE sql IMMUTABLE AS $$ SELECT NULL::int $$;
INSERT INTO ref_nomenclatures.bib_nomenclatures_types (mnemonique)
VALUES ('STATUT_OBS'), ('TYP_INF_GEO');
INSERT INTO ref_nomenclatures.t_nomenclatures (id_type, cd_nomenclature, label_default)
SELECT id_type, c, l
FROM ref_nomenclatures.bib_nomenclatures_types,
     (VALUES ('STATUT_OBS', 'Pr', 'Présent'), ('STATUT_OBS', 'No', 'Non observé'),
             ('TYP_INF_GEO', '1', 'Géoréférencement'), ('TYP_INF_GEO', '2', 'Rattachement'))
         AS v(t, c, l)
WHERE mnemonique = t;

CREATE SCHEMA ref_geo;
CREATE TABLE ref_geo.bib_areas_types (id_type serial PRIMARY KEY, type_code varchar(25));
CREATE TABLE ref_geo.l_areas (
    id_area serial PRIMARY KEY,
    id_type int REFERENCES ref_geo.bib_areas_types,
    area_code varchar(25)
);
CREATE FUNCTION ref_geo.get_id_area_type(mytype varchar) RETURNS int
LANGUAGE sql IMMUTABLE AS $$ SELECT id_type FROM ref_geo.bib_areas_types WHERE type_code = mytype $$;

CREATE SCHEMA gn_meta;
CREATE TABLE gn_meta.t_acquisition_frameworks (
    id_acquisition_framework serial PRIMARY KEY,
    unique_acquisition_framework_id uuid UNIQUE NOT NULL,
    acquisition_framework_name varchar(255) NOT NULL,
    acquisition_framework_desc text NOT NULL,
    acquisition_framework_start_date date NOT NULL,
    meta_create_date timestamp NOT NULL
);
CREATE TABLE gn_meta.t_datasets (
    id_dataset serial PRIMARY KEY,
    unique_dataset_id uuid UNIQUE NOT NULL,
    id_acquisition_framework int NOT NULL REFERENCES gn_meta.t_acquisition_frameworks,
    dataset_name varchar(255) NOT NULL,
    dataset_shortname varchar(255) NOT NULL,
    dataset_desc text NOT NULL,
    marine_domain boolean NOT NULL,
    terrestrial_domain boolean NOT NULL,
    meta_create_date timestamp NOT NULL
);

CREATE SCHEMA gn_synthese;
CREATE TABLE gn_synthese.t_sources (
    id_source serial PRIMARY KEY,
    name_source varchar(255) UNIQUE NOT NULL
);
-- Since GeoNature 2.15 there is no unique index on (id_source, entity_source_pk_value): the
-- script drops the one older versions had. unique_id_sinp is unique.
CREATE TABLE gn_synthese.synthese (
    id_synthese serial PRIMARY KEY,
    unique_id_sinp uuid UNIQUE,
    unique_id_sinp_grp uuid,
    id_source int NOT NULL REFERENCES gn_synthese.t_sources,
    entity_source_pk_value varchar,
    id_dataset int REFERENCES gn_meta.t_datasets,
    id_nomenclature_geo_object_nature int,
    id_nomenclature_grp_typ int,
    grp_method varchar(255),
    id_nomenclature_obs_technique int,
    id_nomenclature_bio_status int,
    id_nomenclature_bio_condition int,
    id_nomenclature_naturalness int,
    id_nomenclature_exist_proof int,
    id_nomenclature_valid_status int,
    id_nomenclature_diffusion_level int,
    id_nomenclature_life_stage int,
    id_nomenclature_sex int,
    id_nomenclature_obj_count int,
    id_nomenclature_type_count int,
    id_nomenclature_sensitivity int,
    id_nomenclature_observation_status int,
    id_nomenclature_blurring int,
    id_nomenclature_source_status int,
    id_nomenclature_info_geo_type int,
    id_nomenclature_behaviour int,
    id_nomenclature_biogeo_status int,
    reference_biblio varchar(5000),
    count_min int,
    count_max int,
    cd_nom int,
    cd_hab int,
    nom_cite varchar(1000) NOT NULL,
    meta_v_taxref varchar(50),
    sample_number_proof text,
    digital_proof text,
    non_digital_proof text,
    altitude_min int,
    altitude_max int,
    depth_min int,
    depth_max int,
    place_name varchar(500),
    the_geom_4326 geometry(Geometry, 4326),
    the_geom_point geometry(Point, 4326),
    the_geom_local geometry(Geometry, 2154),
    precision int,
    id_area_attachment int,
    date_min timestamp NOT NULL,
    date_max timestamp NOT NULL,
    validator varchar(1000),
    validation_comment text,
    observers varchar(1000),
    determiner varchar(1000),
    id_digitiser int,
    id_nomenclature_determination_method int,
    comment_context text,
    comment_description text,
    additional_data jsonb,
    meta_validation_date timestamp,
    last_action char(1)
);
