import { setFlagsFromString } from 'node:v8';

/**
 * V8 settings of the gateway process, applied by main.ts before any other module loads.
 *
 * **No allocation-site pretenuring.** V8 watches which allocation sites make objects that survive
 * young-generation collections and, once most of a site's objects do, allocates all later objects
 * of that site directly in the old generation, for the rest of the process's life. A gateway that
 * reads a long burst of rows which live for a while, as a replica catching up 119,000 events of
 * webhook dispatch does at start, gets sites switched over that the request path shares (release
 * builds of V8 do not say which); from then on much of every request's short-lived garbage lands in
 * the old generation. Measured in `npm run bench` (List chats' first page, both gateway processes
 * from the same build): the one that caught up the backlog grew its old generation by about
 * 45 MB/s under load against 0.5 MB/s for the other and used 377-561 µs of CPU per request against
 * 328-380 µs, whichever platform it ran. With this setting both used 283-320 µs.
 * docs/performance.md has the runs ("The first-started gateway's cost, found").
 */
setFlagsFromString('--no-allocation-site-pretenuring');
