// Package page is the page kit every module's pages share: the layout and
// the site's catalogues in English and Welsh ([Pages]), the fingerprinted
// static assets, messages for people ([Msg], [Text]), the signed-in staff
// member ([Staff], [StaffOf]) and the one path from an error to its answer
// ([Problem], [Pages.Fail], [Pages.FailJSON], [FailJSON]): each package's
// errors carry their HTTP status, a stable code and a translated message,
// and nothing else maps errors to statuses.
//
// It is a leaf: it imports no module of the service (only internal/db, to
// recognise an unavailable database), so every module may import it and
// internal/web, the router, imports no module.
package page
