/*
 * deadline.c - the request-deadline registry and its sweeper thread (see deadline.h). The
 * request path only stores a deadline (one atomic); the lock is taken when a connection
 * opens or closes and once per tick by the sweeper, for one pass over the live connections.
 */
#include "serve/deadline.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>

#include "core/internal.h"

long long hc_deadlines_now_ms(void)
{
    return (long long)(hc_now_s() * 1000.0);
}

int hc_deadlines_init(hc_deadlines *d, int timeout_s)
{
    d->thread_on = d->stop = 0;
    d->head = NULL;
    d->timeout_ms = 1000LL * timeout_s;
    atomic_init(&d->n_expired, 0);
    pthread_condattr_t ca;
    if (pthread_condattr_init(&ca) != 0)
        return hc_error(HC_ENOMEM, "serve: cannot make the deadline sweeper's condition");
    /* the sweeper's timed waits on the deadlines' own (monotonic) clock */
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    int bad = pthread_cond_init(&d->wake, &ca);
    pthread_condattr_destroy(&ca);
    if (bad)
        return hc_error(HC_ENOMEM, "serve: cannot make the deadline sweeper's condition");
    if (pthread_mutex_init(&d->lock, NULL) != 0) {
        pthread_cond_destroy(&d->wake);
        return hc_error(HC_ENOMEM, "serve: cannot make the deadline registry's lock");
    }
    return HC_OK;
}

long hc_deadlines_sweep(hc_deadlines *d, long long now_ms)
{
    long n = 0;
    pthread_mutex_lock(&d->lock);
    for (hc_conn *c = d->head; c; c = c->next) {
        long long t = atomic_load_explicit(&c->deadline_ms, memory_order_relaxed);
        if (c->shut || !t || t > now_ms)
            continue;
        /* the fd is still this connection's: it leaves the list before it is closed */
        shutdown(c->fd, SHUT_RDWR);
        c->shut = 1;
        n++;
    }
    pthread_mutex_unlock(&d->lock);
    if (n)
        atomic_fetch_add(&d->n_expired, (unsigned long long)n);
    return n;
}

static void *sweeper(void *arg)
{
    hc_deadlines *d = arg;
    pthread_mutex_lock(&d->lock);
    while (!d->stop) {
        long long t = hc_deadlines_now_ms() + HC_DEADLINE_TICK_MS;
        struct timespec ts = {(time_t)(t / 1000), (long)(t % 1000) * 1000000L};
        int rc = 0;
        while (!d->stop && rc != ETIMEDOUT)
            rc = pthread_cond_timedwait(&d->wake, &d->lock, &ts);
        if (d->stop)
            break;
        pthread_mutex_unlock(&d->lock);
        hc_deadlines_sweep(d, hc_deadlines_now_ms());
        pthread_mutex_lock(&d->lock);
    }
    pthread_mutex_unlock(&d->lock);
    return NULL;
}

int hc_deadlines_start(hc_deadlines *d)
{
    if (pthread_create(&d->thread, NULL, sweeper, d) != 0)
        return hc_error(HC_ENOMEM, "serve: cannot start the deadline sweeper");
    d->thread_on = 1;
    return HC_OK;
}

void hc_deadlines_free(hc_deadlines *d)
{
    if (d->thread_on) {
        pthread_mutex_lock(&d->lock);
        d->stop = 1;
        pthread_cond_signal(&d->wake);
        pthread_mutex_unlock(&d->lock);
        pthread_join(d->thread, NULL);
        d->thread_on = 0;
    }
    for (hc_conn *c = d->head, *nx; c; c = nx) {
        nx = c->next;
        free(c);
    }
    d->head = NULL;
    pthread_mutex_destroy(&d->lock);
    pthread_cond_destroy(&d->wake);
}

hc_conn *hc_deadlines_add(hc_deadlines *d, int fd)
{
    hc_conn *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->fd = fd;
    atomic_init(&c->deadline_ms, hc_deadlines_now_ms() + d->timeout_ms);
    pthread_mutex_lock(&d->lock);
    c->next = d->head;
    if (d->head)
        d->head->prev = c;
    d->head = c;
    pthread_mutex_unlock(&d->lock);
    return c;
}

void hc_deadlines_remove(hc_deadlines *d, hc_conn *c)
{
    if (!c)
        return;
    pthread_mutex_lock(&d->lock);
    if (c->prev)
        c->prev->next = c->next;
    else
        d->head = c->next;
    if (c->next)
        c->next->prev = c->prev;
    pthread_mutex_unlock(&d->lock);
    free(c);
}

void hc_deadlines_answering(hc_conn *c)
{
    atomic_store_explicit(&c->deadline_ms, 0, memory_order_relaxed);
}

void hc_deadlines_rearm(const hc_deadlines *d, hc_conn *c)
{
    atomic_store_explicit(&c->deadline_ms, hc_deadlines_now_ms() + d->timeout_ms,
                          memory_order_relaxed);
}
