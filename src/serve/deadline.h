/*
 * deadline.h - per-connection request deadlines of the HTTP server (docs/serving.md, "Limits
 * and slow clients"): a connection must deliver a complete request (headers and body) within
 * timeout seconds of being accepted, or of its previous answer on a keep-alive connection, or
 * it is shut down. libmicrohttpd's own timeout restarts on every byte, so a client trickling
 * a header byte a second would hold its connection for ever.
 *
 * A registry of the live connections (a list under one mutex, touched when a connection
 * opens or closes, never per request) and a sweeper thread that wakes every
 * HC_DEADLINE_TICK_MS, shuts down (shutdown(2), SHUT_RDWR) the sockets past their deadline
 * and lets libmicrohttpd close them. A connection whose request is being answered has no
 * deadline. Entries leave the registry in libmicrohttpd's close notification, which comes
 * before it closes the socket, and the sweeper only touches sockets under the same mutex:
 * so it never shuts down a descriptor number that already belongs to another file.
 * Cost: O(1) per connection opened or closed, O(connections) per tick.
 */
#ifndef HC_SERVE_DEADLINE_H
#define HC_SERVE_DEADLINE_H

#include <pthread.h>
#include <stdatomic.h>

#define HC_DEADLINE_TICK_MS 250 /* sweeper period: deadlines hold to within this */

/* One live connection. */
typedef struct hc_conn {
    struct hc_conn *prev, *next; /* the registry's list (under its lock) */
    int fd;                      /* the connection's socket */
    int shut;                    /* 1: shut down by the sweeper (under the lock) */
    atomic_llong deadline_ms;    /* monotonic ms; 0 while a request is being answered */
} hc_conn;

typedef struct {
    pthread_mutex_t lock;
    pthread_cond_t wake; /* signalled to stop the sweeper */
    pthread_t thread;
    int thread_on, stop;
    hc_conn *head;
    long long timeout_ms;
    atomic_ullong n_expired; /* connections shut down past their deadline */
} hc_deadlines;

/* The monotonic clock in milliseconds (the deadlines' clock). */
long long hc_deadlines_now_ms(void);
/* An empty registry with deadlines timeout_s seconds long (>= 1); no sweeper yet. HC_OK, or
 * HC_ENOMEM when the lock cannot be made. */
int hc_deadlines_init(hc_deadlines *d, int timeout_s);
/* Starts the sweeper thread. HC_OK or HC_ENOMEM. */
int hc_deadlines_start(hc_deadlines *d);
/* Stops the sweeper (if started) and frees the entries left. */
void hc_deadlines_free(hc_deadlines *d);
/* Registers a connection accepted now on socket fd; NULL when out of memory (the
 * connection then has no deadline). */
hc_conn *hc_deadlines_add(hc_deadlines *d, int fd);
/* Unregisters and frees c (NULL is ignored); call before the socket is closed. */
void hc_deadlines_remove(hc_deadlines *d, hc_conn *c);
/* c's request is complete and being answered: no deadline until hc_deadlines_rearm. */
void hc_deadlines_answering(hc_conn *c);
/* c's answer is sent: the next request is due within the timeout from now. */
void hc_deadlines_rearm(const hc_deadlines *d, hc_conn *c);
/* One sweep at time now_ms (what the sweeper does each tick): shuts down the connections
 * past their deadline; returns how many it shut down now. */
long hc_deadlines_sweep(hc_deadlines *d, long long now_ms);

#endif
