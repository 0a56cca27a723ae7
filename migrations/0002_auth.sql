-- 0002_auth: reserved; its module replaces this placeholder.
SELECT 1;
