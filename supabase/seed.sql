/**
 * Local demo data: five dealerships and four users (password demo-password-123).
 * Applied after the migrations (`supabase db push --include-seed`, `cargo xtask up`),
 * never on a production project. Safe to run again: existing rows are kept or
 * brought back to these values.
 *
 * Demo calls are not here: `cargo xtask up` sends them through the real webhook, so
 * they exercise the ingest path and the worker like production traffic.
 *
 * | user                | role    | dealerships                             |
 * | admin@demo.test     | admin   | all (by role)                           |
 * | manager@demo.test   | manager | those of the two CSMs who report to it  |
 * | csm.north@demo.test | csm     | toyota-braintree, honda-quincy          |
 * | csm.south@demo.test | csm     | ford-weymouth, nissan-plymouth          |
 * kia-hingham is assigned to nobody: only the admin sees it.
 *
 * The user ids are fixed so tests can refer to them.
 */

/** Dealerships */
insert into public.dealerships (id, name, timezone, auto_registered)
values
  ('toyota-braintree', 'Toyota of Braintree', 'America/New_York', false),
  ('honda-quincy', 'Honda of Quincy', 'America/New_York', false),
  ('ford-weymouth', 'Ford of Weymouth', 'America/New_York', false),
  ('nissan-plymouth', 'Nissan of Plymouth', 'America/New_York', false),
  ('kia-hingham', 'Kia of Hingham', 'America/New_York', false)
on conflict (id) do update
  set name = excluded.name,
      timezone = excluded.timezone,
      auto_registered = false,
      set_up = true;

/** Users (auth.users + auth.identities, as GoTrue writes them) */
with demo (id, email, full_name) as (
  values
    ('a0000000-0000-4000-8000-000000000001'::uuid, 'admin@demo.test', 'Avery Admin'),
    ('a0000000-0000-4000-8000-000000000002'::uuid, 'manager@demo.test', 'Morgan Manager'),
    ('a0000000-0000-4000-8000-000000000003'::uuid, 'csm.north@demo.test', 'Nora North'),
    ('a0000000-0000-4000-8000-000000000004'::uuid, 'csm.south@demo.test', 'Sam South')
)
insert into auth.users (
  instance_id, id, aud, role, email, encrypted_password, email_confirmed_at,
  raw_app_meta_data, raw_user_meta_data, created_at, updated_at,
  -- GoTrue scans these into Go strings: NULL would break its login.
  confirmation_token, recovery_token, email_change_token_new, email_change,
  email_change_token_current, phone_change, phone_change_token, reauthentication_token
)
select
  '00000000-0000-0000-0000-000000000000', d.id, 'authenticated', 'authenticated', d.email,
  extensions.crypt('demo-password-123', extensions.gen_salt('bf', 10)), now(),
  '{"provider": "email", "providers": ["email"]}'::jsonb,
  jsonb_build_object('full_name', d.full_name, 'email_verified', true),
  now(), now(),
  '', '', '', '', '', '', '', ''
from demo d
on conflict (id) do nothing;

insert into auth.identities (
  provider_id, user_id, identity_data, provider, last_sign_in_at, created_at, updated_at
)
select
  u.id::text, u.id,
  jsonb_build_object('sub', u.id::text, 'email', u.email, 'email_verified', true, 'phone_verified', false),
  'email', now(), now(), now()
from auth.users u
where u.id in (
  'a0000000-0000-4000-8000-000000000001',
  'a0000000-0000-4000-8000-000000000002',
  'a0000000-0000-4000-8000-000000000003',
  'a0000000-0000-4000-8000-000000000004'
)
on conflict (provider_id, provider) do nothing;

/** Roles and reporting lines (the profiles themselves come from the auth.users trigger) */
insert into public.profiles (user_id, full_name, role, manager_id)
values
  ('a0000000-0000-4000-8000-000000000001', 'Avery Admin', 'admin', null),
  ('a0000000-0000-4000-8000-000000000002', 'Morgan Manager', 'manager', null)
on conflict (user_id) do update
  set full_name = excluded.full_name,
      role = excluded.role,
      manager_id = excluded.manager_id;

-- After the manager exists, since manager_id references it.
insert into public.profiles (user_id, full_name, role, manager_id)
values
  ('a0000000-0000-4000-8000-000000000003', 'Nora North', 'csm', 'a0000000-0000-4000-8000-000000000002'),
  ('a0000000-0000-4000-8000-000000000004', 'Sam South', 'csm', 'a0000000-0000-4000-8000-000000000002')
on conflict (user_id) do update
  set full_name = excluded.full_name,
      role = excluded.role,
      manager_id = excluded.manager_id;

/** Assignments */
insert into public.user_dealerships (user_id, dealership_id)
values
  ('a0000000-0000-4000-8000-000000000003', 'toyota-braintree'),
  ('a0000000-0000-4000-8000-000000000003', 'honda-quincy'),
  ('a0000000-0000-4000-8000-000000000004', 'ford-weymouth'),
  ('a0000000-0000-4000-8000-000000000004', 'nissan-plymouth')
on conflict (user_id, dealership_id) do nothing;
