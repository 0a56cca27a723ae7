-- 0004_issuance: reserved; its module replaces this placeholder.
SELECT 1;
