-- What search engines and share cards show, when it should differ from the
-- summary and the featured image.
ALTER TABLE articles ADD COLUMN seo_description TEXT NOT NULL DEFAULT '';
ALTER TABLE articles ADD COLUMN social_image TEXT;
