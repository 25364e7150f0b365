/**
 * Whether a dealership has been set up. Ingest registers an unknown
 * dealership_id on its first event (auto_registered = true, the name is the
 * slug, nobody is assigned); such a row is "not set up" until an admin names it,
 * checks its time zone and assigns it in Studio, then sets set_up = true. The
 * dashboard marks a dealership that is not set up wherever it lists it.
 *
 * auto_registered keeps saying where the row came from; set_up says whether
 * someone has finished it. A row added by an admin is set up (the default).
 * Rows ingest registered before this migration are not set up unless an admin
 * already cleared their auto_registered flag (what docs/admin.md used to say to
 * do once a dealership was set up).
 */

alter table public.dealerships add column set_up boolean not null default true;

update public.dealerships set set_up = false where auto_registered;

comment on column public.dealerships.set_up is 'False while the dealership still needs an admin: ingest registered it from an unknown dealership_id (name = slug, nobody assigned). Set it to true once it has a proper name, time zone and assignments; the dashboard shows "not set up" until then.';
comment on column public.dealerships.auto_registered is 'True when the row was created by ingest from an unknown dealership_id (where it came from; set_up says whether an admin has finished it).';
