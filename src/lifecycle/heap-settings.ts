import { setFlagsFromString } from 'node:v8';

/**
 * V8 settings of the gateway process, applied by main.ts before any other module loads.
 *
 * **No allocation-site pretenuring.** V8 watches which allocation sites make objects that survive
 * young-generation collections and, once most of a site's objects do, allocates all later objects
 * of that site directly in the old generation, for the rest of the process's life. A gateway that
 * reads a long burst of rows which live for a while, as a replica catching up 119,000 events of
 * webhook dispatch does at start, has pg's row and string sites switched over; from then on every
 * short-lived page of every request lands in the old generation. Measured in `npm run bench`
 * (List chats' first page, the same build in both gateway processes): the replica that caught up
 * grew its old generation by about 45 MB/s under load against 0.5 MB/s for the other, spent 13.7 %
 * of its CPU in the collector against 4.3 %, and used 386-561 µs of CPU per request against
 * 297-338 µs. With this setting both gateways used 295-320 µs, whichever started first.
 * docs/performance.md has the runs.
 */
setFlagsFromString('--no-allocation-site-pretenuring');
