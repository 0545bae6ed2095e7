-- A client's default country (ISO 3166-1 alpha-2, e.g. GB): a webhook phone number
-- written without `+` is taken as national when it is a valid number there.
ALTER TABLE clients ADD COLUMN default_country TEXT;
-- Why a webhook's raw phone was not taken (`not_e164`, `no_digits`); never the value.
ALTER TABLE events ADD COLUMN phone_rejected TEXT;
