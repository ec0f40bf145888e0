/*
 * _hetcomp.c - the CPython extension under the hetcomp package: opaque handles over the
 * public C API (include/hetcomp.h, nothing else) for datasets, trajectories and models, and the
 * pipeline calls. The Python layer (hetcomp/__init__.py) checks and converts arguments; this
 * file expects exact types (int32 C-contiguous index arrays) and owns the C memory.
 *
 * numpy: trajectory and dataset arrays are read-only views of the C structs (no copy; the view
 * keeps its handle alive); outputs are numpy arrays the C calls write into. The GIL is released
 * while the library trains, distils, evaluates, recommends, reads or writes files; a model is
 * used by one thread at a time (a lock per model, taken with the GIL released, so a thread
 * waiting for it never blocks the others). Errors become hetcomp.Error carrying hc_errmsg();
 * log lines and progress callbacks take the GIL in the calling thread (PyGILState_Ensure).
 * Cost: that of the C calls, plus O(n) conversions of id sequences.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#define NPY_NO_DEPRECATED_API NPY_1_7_API_VERSION
#include <numpy/arrayobject.h>

#include <hetcomp.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#if PY_VERSION_HEX >= 0x030D0000
#define HC_PY_FINALIZING() Py_IsFinalizing()
#else
#define HC_PY_FINALIZING() _Py_IsFinalizing()
#endif

static PyObject *HcError;

/* ======================================================================== Errors */

/* Raises hetcomp.Error with the library's message for status rc (code and name as
 * attributes); returns NULL for `return raise_hc(rc)`. */
static PyObject *raise_hc(int rc)
{
    const char *msg = hc_errmsg();
    PyObject *exc = PyObject_CallFunction(HcError, "s", *msg ? msg : hc_strerror(rc));
    if (!exc)
        return NULL;
    PyObject *code = PyLong_FromLong(rc), *name = PyUnicode_FromString(hc_err_name(rc));
    if (code && name && !PyObject_SetAttrString(exc, "code", code) &&
        !PyObject_SetAttrString(exc, "name", name))
        PyErr_SetObject(HcError, exc);
    Py_XDECREF(code);
    Py_XDECREF(name);
    Py_DECREF(exc);
    return NULL;
}

/* ======================================================================== Handles */

typedef struct {
    PyObject_HEAD hc_dataset ds;
} DatasetObject;

typedef struct {
    PyObject_HEAD hc_traj t;
} TrajObject;

typedef struct {
    PyObject_HEAD hc_model *m;
    PyThread_type_lock lock; /* one call on the model at a time (hc_model scratch) */
} ModelObject;

static PyTypeObject DatasetType, TrajType, ModelType;

static DatasetObject *new_dataset(void)
{
    DatasetObject *o = PyObject_New(DatasetObject, &DatasetType);
    if (o)
        memset(&o->ds, 0, sizeof o->ds);
    return o;
}

static TrajObject *new_traj(void)
{
    TrajObject *o = PyObject_New(TrajObject, &TrajType);
    if (o)
        memset(&o->t, 0, sizeof o->t);
    return o;
}

/* A handle that owns m (freed on failure). */
static PyObject *wrap_model(hc_model *m)
{
    ModelObject *o = PyObject_New(ModelObject, &ModelType);
    if (!o) {
        hc_model_free(m);
        return NULL;
    }
    o->m = m;
    if (!(o->lock = PyThread_allocate_lock())) {
        Py_DECREF(o);
        return PyErr_NoMemory();
    }
    return (PyObject *)o;
}

static void dataset_dealloc(DatasetObject *o)
{
    hc_dataset_free(&o->ds);
    PyObject_Free(o);
}

static void traj_dealloc(TrajObject *o)
{
    hc_traj_free(&o->t);
    PyObject_Free(o);
}

static void model_dealloc(ModelObject *o)
{
    hc_model_free(o->m);
    if (o->lock)
        PyThread_free_lock(o->lock);
    PyObject_Free(o);
}

/* Takes the model's lock; call with the GIL released. */
static void model_enter(ModelObject *o)
{
    PyThread_acquire_lock(o->lock, WAIT_LOCK);
}

static void model_leave(ModelObject *o)
{
    PyThread_release_lock(o->lock);
}

/* ======================================================================== numpy helpers */

/* A read-only view of data (nd dims of type) that keeps owner alive. */
static PyObject *view(PyObject *owner, int nd, npy_intp *dims, int type, void *data)
{
    PyObject *a = PyArray_New(&PyArray_Type, nd, dims, type, NULL, data, 0,
                              NPY_ARRAY_C_CONTIGUOUS | NPY_ARRAY_ALIGNED, NULL);
    if (!a)
        return NULL;
    Py_INCREF(owner);
    if (PyArray_SetBaseObject((PyArrayObject *)a, owner) < 0) {
        Py_DECREF(a);
        return NULL;
    }
    return a;
}

/* o as an int32 C-contiguous array of nd dimensions (what __init__.py hands over), or a
 * TypeError naming what. Borrowed. */
static PyArrayObject *i32_array(PyObject *o, int nd, const char *what)
{
    if (!PyArray_Check(o) || PyArray_TYPE((PyArrayObject *)o) != NPY_INT32 ||
        !PyArray_IS_C_CONTIGUOUS((PyArrayObject *)o) || PyArray_NDIM((PyArrayObject *)o) != nd) {
        PyErr_Format(PyExc_TypeError, "%s: expected a C-contiguous %d-d int32 array", what, nd);
        return NULL;
    }
    return (PyArrayObject *)o;
}

/* ======================================================================== Ids */

/* The key of one id: a str's UTF-8, a bytes object's bytes, an integer's decimal digits
 * (into buf). -1 with a TypeError naming position j otherwise. */
static int id_key(PyObject *o, Py_ssize_t j, char *buf, size_t cap, const char **key,
                  Py_ssize_t *len)
{
    if (PyUnicode_Check(o)) {
        *key = PyUnicode_AsUTF8AndSize(o, len);
        return *key ? 0 : -1;
    }
    if (PyBytes_Check(o)) {
        *key = PyBytes_AS_STRING(o);
        *len = PyBytes_GET_SIZE(o);
        return 0;
    }
    if (PyLong_Check(o) || PyArray_IsScalar(o, Integer)) {
        PyObject *i = PyNumber_Index(o);
        long long v = i ? PyLong_AsLongLong(i) : -1;
        Py_XDECREF(i);
        if (v == -1 && PyErr_Occurred())
            return -1;
        *len = snprintf(buf, cap, "%lld", v);
        *key = buf;
        return 0;
    }
    PyErr_Format(PyExc_TypeError, "ids must be str, bytes or int; position %zd is %s", j,
                 Py_TYPE(o)->tp_name);
    return -1;
}

/* Calls fn(ctx, j, key, len) for every id of seq: a numpy integer array formats its values,
 * anything else is walked as a sequence. Returns the count, or -1 with an exception set. */
typedef int (*id_fn)(void *ctx, Py_ssize_t j, const char *key, Py_ssize_t len);
static Py_ssize_t each_id(PyObject *seq, id_fn fn, void *ctx)
{
    char buf[32];
    if (PyArray_Check(seq) && PyArray_ISINTEGER((PyArrayObject *)seq)) {
        PyArrayObject *a = (PyArrayObject *)PyArray_FROMANY(
            seq, NPY_INT64, 0, 0, NPY_ARRAY_IN_ARRAY | NPY_ARRAY_FORCECAST);
        if (!a)
            return -1;
        const Py_ssize_t n = PyArray_SIZE(a);
        const int64_t *v = PyArray_DATA(a);
        Py_ssize_t j = 0;
        for (; j < n; j++) {
            int len = snprintf(buf, sizeof buf, "%lld", (long long)v[j]);
            if (fn(ctx, j, buf, len) < 0)
                break;
        }
        Py_DECREF(a);
        return j == n ? n : -1;
    }
    PyObject *fast = PySequence_Fast(seq, "ids must be a sequence or an array");
    if (!fast)
        return -1;
    const Py_ssize_t n = PySequence_Fast_GET_SIZE(fast);
    Py_ssize_t j = 0;
    for (; j < n; j++) {
        const char *key;
        Py_ssize_t len;
        if (id_key(PySequence_Fast_GET_ITEM(fast, j), j, buf, sizeof buf, &key, &len) < 0 ||
            fn(ctx, j, key, len) < 0)
            break;
    }
    Py_DECREF(fast);
    return j == n ? n : -1;
}

typedef struct {
    hc_idmap *map;
    int32_t *idx;
    Py_ssize_t cap;
    const char *what;
    int pad_empty; /* an empty id means padding (-1) */
} id_ctx;

static int put_one(void *ctx, Py_ssize_t j, const char *key, Py_ssize_t len)
{
    id_ctx *c = ctx;
    if (j >= c->cap) {
        PyErr_Format(PyExc_ValueError, "%s: more ids than expected", c->what);
        return -1;
    }
    int rc = hc_idmap_put(c->map, key, (size_t)len, &c->idx[j]);
    if (rc != HC_OK) {
        raise_hc(rc);
        return -1;
    }
    return 0;
}

static int get_one(void *ctx, Py_ssize_t j, const char *key, Py_ssize_t len)
{
    id_ctx *c = ctx;
    if (j >= c->cap) {
        PyErr_Format(PyExc_ValueError, "%s: more ids than expected", c->what);
        return -1;
    }
    c->idx[j] = len == 0 && c->pad_empty ? -1 : hc_idmap_get(c->map, key, (size_t)len);
    if (c->idx[j] < 0 && !(len == 0 && c->pad_empty)) {
        PyObject *id = PyUnicode_DecodeUTF8(key, len > 64 ? 64 : len, "replace");
        if (id)
            PyErr_Format(PyExc_KeyError, "%s: unknown id '%U' at position %zd", c->what, id, j);
        Py_XDECREF(id);
        return -1;
    }
    return 0;
}

/* ======================================================================== Dicts */

static int set_item(PyObject *d, const char *key, PyObject *v)
{
    int rc = v ? PyDict_SetItemString(d, key, v) : -1;
    Py_XDECREF(v);
    return rc;
}

/* {"recall@10": ..., "ndcg@10": ..., ..., "n_users": n, "n_evaluable": n}. */
static PyObject *metrics_dict(const hc_metrics *m)
{
    PyObject *d = PyDict_New();
    char key[32];
    for (int x = 0; d && x < HC_EVAL_NK; x++) {
        snprintf(key, sizeof key, "recall@%d", hc_eval_ks[x]);
        if (set_item(d, key, PyFloat_FromDouble(m->recall[x])) < 0)
            Py_CLEAR(d);
        snprintf(key, sizeof key, "ndcg@%d", hc_eval_ks[x]);
        if (d && set_item(d, key, PyFloat_FromDouble(m->ndcg[x])) < 0)
            Py_CLEAR(d);
    }
    if (d && (set_item(d, "n_users", PyLong_FromLong(m->n_users)) < 0 ||
              set_item(d, "n_evaluable", PyLong_FromLong(m->n_evaluable)) < 0))
        Py_CLEAR(d);
    return d;
}

static PyObject *eval_dict(const hc_eval_result *r)
{
    return Py_BuildValue("{s:N,s:N}", "valid", metrics_dict(&r->valid), "test",
                         metrics_dict(&r->test));
}

static PyObject *summary_dict(const hc_train_summary *s)
{
    return Py_BuildValue("{s:i,s:i,s:i,s:O,s:d,s:N,s:N}", "epochs", s->epochs, "best_epoch",
                         s->best_epoch, "n_evals", s->n_evals, "stopped_early",
                         s->stopped_early ? Py_True : Py_False, "train_s", s->train_s, "valid",
                         metrics_dict(&s->best.valid), "test", metrics_dict(&s->best.test));
}

/* ======================================================================== Argument lists */

/* A NULL-terminated array of the UTF-8 strings of seq; *keep holds them alive (a tuple). */
static const char **str_list(PyObject *seq, PyObject **keep)
{
    *keep = PySequence_Tuple(seq);
    if (!*keep)
        return NULL;
    const Py_ssize_t n = PyTuple_GET_SIZE(*keep);
    const char **v = PyMem_Calloc((size_t)n + 1, sizeof *v);
    if (!v) {
        PyErr_NoMemory();
        return NULL;
    }
    for (Py_ssize_t j = 0; j < n; j++) {
        PyObject *s = PyTuple_GET_ITEM(*keep, j);
        if (!PyUnicode_Check(s) || !(v[j] = PyUnicode_AsUTF8(s))) {
            if (!PyErr_Occurred())
                PyErr_SetString(PyExc_TypeError, "hyperparameters must be 'name=value' strings");
            PyMem_Free(v);
            return NULL;
        }
    }
    return v;
}

/* The trajectories of seq (TrajObject handles) as an array of n pointers; *keep holds them. */
static const hc_traj **traj_list(PyObject *seq, PyObject **keep, int32_t *n)
{
    *keep = PySequence_Tuple(seq);
    if (!*keep)
        return NULL;
    *n = (int32_t)PyTuple_GET_SIZE(*keep);
    const hc_traj **v = PyMem_Calloc((size_t)*n + 1, sizeof *v);
    if (!v) {
        PyErr_NoMemory();
        return NULL;
    }
    for (int32_t j = 0; j < *n; j++) {
        PyObject *t = PyTuple_GET_ITEM(*keep, j);
        if (!PyObject_TypeCheck(t, &TrajType)) {
            PyErr_Format(PyExc_TypeError, "trajectory %d is a %s, not a Trajectory", j,
                         Py_TYPE(t)->tp_name);
            PyMem_Free(v);
            return NULL;
        }
        v[j] = &((TrajObject *)t)->t;
    }
    return v;
}

/* Parses (kind, valid, test, seed, min_user, min_item) into o. */
static int split_opts(PyObject *tup, hc_split_opts *o)
{
    const char *kind;
    unsigned long long seed;
    hc_split_opts_default(o);
    if (!PyArg_ParseTuple(tup, "sddKii", &kind, &o->valid_frac, &o->test_frac, &seed, &o->min_user,
                          &o->min_item))
        return -1;
    o->seed = seed;
    for (int k = HC_SPLIT_RATIO; k < HC_SPLIT_IMPORTED; k++)
        if (!strcmp(kind, hc_split_name((hc_split_kind)k))) {
            o->kind = (hc_split_kind)k;
            return 0;
        }
    PyErr_Format(PyExc_ValueError, "split method must be ratio, loo or temporal, got '%s'", kind);
    return -1;
}

/* Parses (format, threshold or None, header) into o. */
static int read_opts(PyObject *tup, hc_read_opts *o)
{
    const char *fmt;
    PyObject *thr;
    hc_read_opts_default(o);
    if (!PyArg_ParseTuple(tup, "sOi", &fmt, &thr, &o->header))
        return -1;
    if (hc_format_parse(fmt, &o->format) != HC_OK) {
        raise_hc(HC_EINVAL);
        return -1;
    }
    if (thr != Py_None) {
        double t = PyFloat_AsDouble(thr);
        if (t == -1.0 && PyErr_Occurred())
            return -1;
        o->has_threshold = 1;
        o->threshold = (float)t;
    }
    return 0;
}

/* ======================================================================== Datasets */

/* Splits x over the maps into a new dataset handle (GIL released for the split). */
static PyObject *split_into_handle(const hc_interactions *x, const hc_idmap *users,
                                   const hc_idmap *items, const hc_split_opts *so)
{
    DatasetObject *o = new_dataset();
    if (!o)
        return NULL;
    int rc;
    PyThreadState *ts_ = PyEval_SaveThread();
    rc = hc_split(x, users, items, so, &o->ds);
    PyEval_RestoreThread(ts_);
    if (rc != HC_OK) {
        Py_DECREF(o);
        return raise_hc(rc);
    }
    return (PyObject *)o;
}

/* Pushes n (users[j], items[j], ts[j]) interactions into x. */
static int push_pairs(hc_interactions *x, const int32_t *u, const int32_t *i, const int64_t *ts,
                      Py_ssize_t n)
{
    int rc = hc_interactions_enable(x, 0, ts != NULL, 0);
    for (Py_ssize_t j = 0; rc == HC_OK && j < n; j++)
        rc = hc_interactions_push(x, u[j], i[j], 0.0f, ts ? ts[j] : 0);
    return rc;
}

static PyObject *py_dataset_from_ids(PyObject *self, PyObject *args)
{
    (void)self;
    PyObject *users, *items, *ts_obj, *split;
    Py_ssize_t n;
    if (!PyArg_ParseTuple(args, "OOnOO", &users, &items, &n, &ts_obj, &split))
        return NULL;
    hc_split_opts so;
    if (split_opts(split, &so) < 0)
        return NULL;
    PyArrayObject *ts = NULL;
    if (ts_obj != Py_None &&
        !(ts = (PyArrayObject *)PyArray_FROMANY(ts_obj, NPY_INT64, 1, 1, NPY_ARRAY_IN_ARRAY)))
        return NULL;
    hc_idmap *um = hc_idmap_new(), *im = hc_idmap_new();
    int32_t *ui = PyMem_Malloc((size_t)(n ? n : 1) * sizeof *ui);
    int32_t *ii = PyMem_Malloc((size_t)(n ? n : 1) * sizeof *ii);
    hc_interactions x = {0};
    PyObject *out = NULL;
    if (!um || !im || !ui || !ii) {
        PyErr_NoMemory();
        goto done;
    }
    id_ctx cu = {um, ui, n, "users", 0}, ci = {im, ii, n, "items", 0};
    if (each_id(users, put_one, &cu) != n || each_id(items, put_one, &ci) != n) {
        if (!PyErr_Occurred())
            PyErr_Format(PyExc_ValueError, "users and items must both hold %zd ids", n);
        goto done;
    }
    if (ts && PyArray_SIZE(ts) != n) {
        PyErr_Format(PyExc_ValueError, "timestamps: %zd values for %zd interactions",
                     (Py_ssize_t)PyArray_SIZE(ts), n);
        goto done;
    }
    int rc = push_pairs(&x, ui, ii, ts ? PyArray_DATA(ts) : NULL, n);
    out = rc == HC_OK ? split_into_handle(&x, um, im, &so) : raise_hc(rc);
done:
    hc_interactions_free(&x);
    hc_idmap_free(um);
    hc_idmap_free(im);
    PyMem_Free(ui);
    PyMem_Free(ii);
    Py_XDECREF(ts);
    return out;
}

static PyObject *py_dataset_from_file(PyObject *self, PyObject *args)
{
    (void)self;
    const char *path;
    PyObject *read, *split;
    if (!PyArg_ParseTuple(args, "sOO", &path, &read, &split))
        return NULL;
    hc_read_opts ro;
    hc_split_opts so;
    if (read_opts(read, &ro) < 0 || split_opts(split, &so) < 0)
        return NULL;
    hc_idmap *um = hc_idmap_new(), *im = hc_idmap_new();
    hc_interactions x = {0};
    PyObject *out = NULL;
    int rc = um && im ? HC_OK : HC_ENOMEM;
    if (rc == HC_OK) {
        PyThreadState *ts_ = PyEval_SaveThread();
        rc = hc_read_interactions(path, &ro, um, im, &x);
        PyEval_RestoreThread(ts_);
    }
    out = rc == HC_OK ? split_into_handle(&x, um, im, &so) : raise_hc(rc);
    hc_interactions_free(&x);
    hc_idmap_free(um);
    hc_idmap_free(im);
    return out;
}

/* None or a str: the path or NULL. */
static int opt_path(PyObject *o, const char **out)
{
    *out = NULL;
    if (o == Py_None)
        return 0;
    if (!PyUnicode_Check(o)) {
        PyErr_SetString(PyExc_TypeError, "paths must be str or None");
        return -1;
    }
    *out = PyUnicode_AsUTF8(o);
    return *out ? 0 : -1;
}

static PyObject *py_dataset_import(PyObject *self, PyObject *args)
{
    (void)self;
    PyObject *p[5], *read;
    if (!PyArg_ParseTuple(args, "OOOOOO", &p[0], &p[1], &p[2], &p[3], &p[4], &read))
        return NULL;
    hc_import_paths ip;
    hc_read_opts ro;
    if (opt_path(p[0], &ip.train) < 0 || opt_path(p[1], &ip.valid) < 0 ||
        opt_path(p[2], &ip.test) < 0 || opt_path(p[3], &ip.users_catalog) < 0 ||
        opt_path(p[4], &ip.items_catalog) < 0 || read_opts(read, &ro) < 0)
        return NULL;
    DatasetObject *o = new_dataset();
    if (!o)
        return NULL;
    int rc;
    PyThreadState *ts_ = PyEval_SaveThread();
    rc = hc_split_import(&ip, &ro, &o->ds);
    PyEval_RestoreThread(ts_);
    if (rc != HC_OK) {
        Py_DECREF(o);
        return raise_hc(rc);
    }
    return (PyObject *)o;
}

static PyObject *py_dataset_load(PyObject *self, PyObject *args)
{
    (void)self;
    const char *path;
    if (!PyArg_ParseTuple(args, "s", &path))
        return NULL;
    DatasetObject *o = new_dataset();
    if (!o)
        return NULL;
    int rc;
    PyThreadState *ts_ = PyEval_SaveThread();
    rc = hc_dataset_load(path, &o->ds);
    PyEval_RestoreThread(ts_);
    if (rc != HC_OK) {
        Py_DECREF(o);
        return raise_hc(rc);
    }
    return (PyObject *)o;
}

/* Pairs (users, items) of one set: two 1-d int32 arrays of one length. */
static int pairs_arg(PyObject *u, PyObject *i, const char *set, const int32_t **pu,
                     const int32_t **pi, int64_t *n)
{
    PyArrayObject *au = i32_array(u, 1, set), *ai = au ? i32_array(i, 1, set) : NULL;
    if (!ai)
        return -1;
    if (PyArray_SIZE(au) != PyArray_SIZE(ai)) {
        PyErr_Format(PyExc_ValueError, "%s: %zd users but %zd items", set,
                     (Py_ssize_t)PyArray_SIZE(au), (Py_ssize_t)PyArray_SIZE(ai));
        return -1;
    }
    *pu = PyArray_DATA(au);
    *pi = PyArray_DATA(ai);
    *n = PyArray_SIZE(au);
    return 0;
}

static PyObject *py_dataset_from_arrays(PyObject *self, PyObject *args)
{
    (void)self;
    int nu, ni;
    PyObject *a[6];
    if (!PyArg_ParseTuple(args, "iiOOOOOO", &nu, &ni, &a[0], &a[1], &a[2], &a[3], &a[4], &a[5]))
        return NULL;
    const int32_t *u[3], *it[3];
    int64_t n[3];
    static const char *const sets[3] = {"train", "valid", "test"};
    for (int s = 0; s < 3; s++)
        if (pairs_arg(a[2 * s], a[2 * s + 1], sets[s], &u[s], &it[s], &n[s]) < 0)
            return NULL;
    DatasetObject *o = new_dataset();
    if (!o)
        return NULL;
    int rc;
    PyThreadState *ts_ = PyEval_SaveThread();
    rc = hc_dataset_from_arrays(nu, ni, u[0], it[0], n[0], u[1], it[1], n[1], u[2], it[2], n[2],
                                &o->ds);
    PyEval_RestoreThread(ts_);
    if (rc != HC_OK) {
        Py_DECREF(o);
        return raise_hc(rc);
    }
    return (PyObject *)o;
}

static PyObject *py_dataset_synth(PyObject *self, PyObject *args)
{
    (void)self;
    hc_synth_opts sy;
    hc_synth_opts_default(&sy);
    long long n_inter;
    unsigned long long seed;
    PyObject *split;
    if (!PyArg_ParseTuple(args, "iiLKO", &sy.n_users, &sy.n_items, &n_inter, &seed, &split))
        return NULL;
    sy.n_interactions = n_inter;
    sy.seed = seed;
    hc_split_opts so;
    if (split_opts(split, &so) < 0)
        return NULL;
    hc_idmap *um = hc_idmap_new(), *im = hc_idmap_new();
    hc_interactions x = {0};
    int rc = um && im ? HC_OK : HC_ENOMEM;
    if (rc == HC_OK) {
        PyThreadState *ts_ = PyEval_SaveThread();
        rc = hc_synth(&sy, um, im, &x);
        PyEval_RestoreThread(ts_);
    }
    PyObject *out = rc == HC_OK ? split_into_handle(&x, um, im, &so) : raise_hc(rc);
    hc_interactions_free(&x);
    hc_idmap_free(um);
    hc_idmap_free(im);
    return out;
}

static PyObject *dataset_save(DatasetObject *o, PyObject *args)
{
    const char *path;
    if (!PyArg_ParseTuple(args, "s", &path))
        return NULL;
    int rc;
    PyThreadState *ts_ = PyEval_SaveThread();
    rc = hc_dataset_save(&o->ds, path);
    PyEval_RestoreThread(ts_);
    if (rc != HC_OK)
        return raise_hc(rc);
    Py_RETURN_NONE;
}

/* (indptr, indices) views of set 0 train, 1 valid, 2 test. */
static PyObject *dataset_csr(DatasetObject *o, PyObject *args)
{
    int which;
    if (!PyArg_ParseTuple(args, "i", &which))
        return NULL;
    if (which < 0 || which > 2) {
        PyErr_SetString(PyExc_ValueError, "set must be 0 (train), 1 (valid) or 2 (test)");
        return NULL;
    }
    const hc_csr *c = which == 0 ? &o->ds.train : which == 1 ? &o->ds.valid : &o->ds.test;
    npy_intp np1 = c->nrows + 1, nnz = (npy_intp)c->nnz;
    return Py_BuildValue("(NN)", view((PyObject *)o, 1, &np1, NPY_INT64, c->indptr),
                         view((PyObject *)o, 1, &nnz, NPY_INT32, c->indices));
}

/* Indices of the ids in seq (0 users, 1 items) as an int32 array of n; with pad_empty, "" is
 * padding (-1). KeyError on an unknown id. */
static PyObject *dataset_index(DatasetObject *o, PyObject *args)
{
    int which, pad;
    Py_ssize_t n;
    PyObject *seq;
    if (!PyArg_ParseTuple(args, "iOnp", &which, &seq, &n, &pad))
        return NULL;
    npy_intp dims[1] = {n};
    PyArrayObject *out = (PyArrayObject *)PyArray_SimpleNew(1, dims, NPY_INT32);
    if (!out)
        return NULL;
    id_ctx c = {which ? o->ds.items : o->ds.users, PyArray_DATA(out), n, which ? "items" : "users",
                pad};
    if (each_id(seq, get_one, &c) != n) {
        if (!PyErr_Occurred())
            PyErr_Format(PyExc_ValueError, "expected %zd ids", n);
        Py_DECREF(out);
        return NULL;
    }
    return (PyObject *)out;
}

/* The own ids (0 users, 1 items) of an int32 index array, as a list of str. */
static PyObject *dataset_ids(DatasetObject *o, PyObject *args)
{
    int which;
    PyObject *arr;
    if (!PyArg_ParseTuple(args, "iO", &which, &arr))
        return NULL;
    PyArrayObject *a = i32_array(arr, 1, "indices");
    if (!a)
        return NULL;
    const hc_idmap *m = which ? o->ds.items : o->ds.users;
    const int32_t n = hc_idmap_size(m), *v = PyArray_DATA(a);
    PyObject *list = PyList_New(PyArray_SIZE(a));
    for (Py_ssize_t j = 0; list && j < PyArray_SIZE(a); j++) {
        if (v[j] < 0 || v[j] >= n) {
            Py_CLEAR(list);
            PyErr_Format(PyExc_IndexError, "%s index %d at position %zd is outside 0..%d",
                         which ? "item" : "user", v[j], j, n - 1);
            break;
        }
        PyObject *s = PyUnicode_DecodeUTF8(hc_idmap_name(m, v[j]),
                                           (Py_ssize_t)strlen(hc_idmap_name(m, v[j])), "replace");
        if (!s)
            Py_CLEAR(list);
        else
            PyList_SET_ITEM(list, j, s);
    }
    return list;
}

static PyObject *dataset_stats(DatasetObject *o, PyObject *noargs)
{
    (void)noargs;
    hc_stats st;
    hc_dataset_stats(&o->ds, &st);
    return Py_BuildValue("{s:i,s:i,s:i,s:L,s:L,s:L,s:i,s:d,s:(ddddd),s:(ddddd),s:L,s:L}", "n_users",
                         st.n_users, "n_items", st.n_items, "n_items_in_train", st.n_items_in_train,
                         "n_train", (long long)st.n_train, "n_valid", (long long)st.n_valid,
                         "n_test", (long long)st.n_test, "n_eval_users", st.n_eval_users, "density",
                         st.density, "user_pct", st.user_pct[0], st.user_pct[1], st.user_pct[2],
                         st.user_pct[3], st.user_pct[4], "item_pct", st.item_pct[0], st.item_pct[1],
                         st.item_pct[2], st.item_pct[3], st.item_pct[4], "user_max",
                         (long long)st.user_max, "item_max", (long long)st.item_max);
}

static PyObject *dataset_get(DatasetObject *o, void *what)
{
    const hc_dataset *d = &o->ds;
    switch ((int)(intptr_t)what) {
    case 0:
        return PyLong_FromLong(d->n_users);
    case 1:
        return PyLong_FromLong(d->n_items);
    case 2:
        return PyLong_FromUnsignedLongLong(d->checksum);
    case 3:
        return PyUnicode_FromString(hc_split_name(d->kind));
    default:
        return PyLong_FromLong(hc_dataset_n_eval_users(d));
    }
}

static PyMethodDef dataset_methods[] = {
    {"save", (PyCFunction)dataset_save, METH_VARARGS, "save(path)"},
    {"csr", (PyCFunction)dataset_csr, METH_VARARGS, "csr(set) -> (indptr, indices) views"},
    {"index", (PyCFunction)dataset_index, METH_VARARGS, "index(which, ids, n, pad) -> int32"},
    {"ids", (PyCFunction)dataset_ids, METH_VARARGS, "ids(which, int32 indices) -> list"},
    {"stats", (PyCFunction)dataset_stats, METH_NOARGS, "stats() -> dict"},
    {NULL, NULL, 0, NULL}};

static PyGetSetDef dataset_getset[] = {{"n_users", (getter)dataset_get, NULL, NULL, (void *)0},
                                       {"n_items", (getter)dataset_get, NULL, NULL, (void *)1},
                                       {"checksum", (getter)dataset_get, NULL, NULL, (void *)2},
                                       {"kind", (getter)dataset_get, NULL, NULL, (void *)3},
                                       {"n_eval_users", (getter)dataset_get, NULL, NULL, (void *)4},
                                       {NULL, NULL, NULL, NULL, NULL}};

/* ======================================================================== Trajectories */

static PyObject *py_traj_from_arrays(PyObject *self, PyObject *args)
{
    (void)self;
    DatasetObject *d;
    PyObject *top_obj, *ep_obj;
    const char *name;
    if (!PyArg_ParseTuple(args, "O!OsO", &DatasetType, &d, &top_obj, &name, &ep_obj))
        return NULL;
    PyArrayObject *top = i32_array(top_obj, 3, "topk"), *ep = NULL;
    if (!top)
        return NULL;
    const npy_intp *dims = PyArray_DIMS(top);
    if (dims[1] != d->ds.n_users || dims[0] > INT32_MAX || dims[2] > INT32_MAX) {
        PyErr_Format(PyExc_ValueError,
                     "topk: shape (%zd, %zd, %zd), want (checkpoints, %d users, K)",
                     (Py_ssize_t)dims[0], (Py_ssize_t)dims[1], (Py_ssize_t)dims[2], d->ds.n_users);
        return NULL;
    }
    if (ep_obj != Py_None &&
        (!(ep = i32_array(ep_obj, 1, "epochs")) || PyArray_SIZE(ep) != dims[0])) {
        if (!PyErr_Occurred())
            PyErr_Format(PyExc_ValueError, "epochs: %zd values for %zd checkpoints",
                         (Py_ssize_t)PyArray_SIZE(ep), (Py_ssize_t)dims[0]);
        return NULL;
    }
    TrajObject *o = new_traj();
    if (!o)
        return NULL;
    int rc;
    const int32_t *tp = PyArray_DATA(top), *epp = ep ? PyArray_DATA(ep) : NULL;
    PyThreadState *ts_ = PyEval_SaveThread();
    rc = hc_traj_from_arrays(&d->ds, name, (int32_t)dims[0], (int32_t)dims[2], tp, epp, &o->t);
    PyEval_RestoreThread(ts_);
    if (rc != HC_OK) {
        Py_DECREF(o);
        return raise_hc(rc);
    }
    return (PyObject *)o;
}

/* None or a dataset handle: its dataset or NULL. */
static int opt_dataset(PyObject *o, const hc_dataset **ds)
{
    *ds = NULL;
    if (o == Py_None)
        return 0;
    if (!PyObject_TypeCheck(o, &DatasetType)) {
        PyErr_SetString(PyExc_TypeError, "expected a Dataset or None");
        return -1;
    }
    *ds = &((DatasetObject *)o)->ds;
    return 0;
}

static PyObject *py_traj_load(PyObject *self, PyObject *args)
{
    (void)self;
    const char *path;
    PyObject *dso;
    const hc_dataset *ds;
    if (!PyArg_ParseTuple(args, "sO", &path, &dso) || opt_dataset(dso, &ds) < 0)
        return NULL;
    TrajObject *o = new_traj();
    if (!o)
        return NULL;
    int rc;
    PyThreadState *ts_ = PyEval_SaveThread();
    rc = hc_traj_load(path, ds, &o->t);
    PyEval_RestoreThread(ts_);
    if (rc != HC_OK) {
        Py_DECREF(o);
        return raise_hc(rc);
    }
    return (PyObject *)o;
}

static PyObject *py_traj_import_text(PyObject *self, PyObject *args)
{
    (void)self;
    const char *path;
    DatasetObject *d;
    double cov;
    if (!PyArg_ParseTuple(args, "sO!d", &path, &DatasetType, &d, &cov))
        return NULL;
    TrajObject *o = new_traj();
    if (!o)
        return NULL;
    int rc;
    int32_t missing = 0;
    PyThreadState *ts_ = PyEval_SaveThread();
    rc = hc_traj_import_text(path, &d->ds, cov, &o->t, &missing);
    PyEval_RestoreThread(ts_);
    if (rc != HC_OK) {
        Py_DECREF(o);
        return raise_hc(rc);
    }
    return Py_BuildValue("(Ni)", o, missing);
}

static PyObject *traj_save(TrajObject *o, PyObject *args)
{
    const char *path;
    if (!PyArg_ParseTuple(args, "s", &path))
        return NULL;
    int rc;
    PyThreadState *ts_ = PyEval_SaveThread();
    rc = hc_traj_save(&o->t, path);
    PyEval_RestoreThread(ts_);
    if (rc != HC_OK)
        return raise_hc(rc);
    Py_RETURN_NONE;
}

static PyObject *traj_export_text(TrajObject *o, PyObject *args)
{
    DatasetObject *d;
    const char *path;
    if (!PyArg_ParseTuple(args, "O!s", &DatasetType, &d, &path))
        return NULL;
    int rc;
    PyThreadState *ts_ = PyEval_SaveThread();
    rc = hc_traj_export_text(&o->t, &d->ds, path);
    PyEval_RestoreThread(ts_);
    if (rc != HC_OK)
        return raise_hc(rc);
    Py_RETURN_NONE;
}

/* Views: 0 top (C x U x K), 1 epochs, 2 valid_r50, 3 observed (C x train_nnz or None). */
static PyObject *traj_array(TrajObject *o, PyObject *args)
{
    int which;
    if (!PyArg_ParseTuple(args, "i", &which))
        return NULL;
    const hc_traj *t = &o->t;
    npy_intp d3[3] = {t->n_ckpt, t->n_users, t->k}, d1[1] = {t->n_ckpt};
    npy_intp d2[2] = {t->n_ckpt, (npy_intp)t->train_nnz};
    switch (which) {
    case 0:
        return view((PyObject *)o, 3, d3, NPY_INT32, t->top);
    case 1:
        return view((PyObject *)o, 1, d1, NPY_INT32, t->epochs);
    case 2:
        return view((PyObject *)o, 1, d1, NPY_FLOAT32, t->valid_r50);
    default:
        if (!t->observed)
            Py_RETURN_NONE;
        return view((PyObject *)o, 2, d2, NPY_INT32, t->observed);
    }
}

static PyObject *traj_get(TrajObject *o, void *what)
{
    const hc_traj *t = &o->t;
    switch ((int)(intptr_t)what) {
    case 0:
        return PyUnicode_FromString(t->model);
    case 1:
        return PyLong_FromLong(t->n_ckpt);
    case 2:
        return PyLong_FromLong(t->k);
    case 3:
        return PyLong_FromLong(t->n_users);
    case 4:
        return PyLong_FromLong(t->n_items);
    default:
        return PyLong_FromUnsignedLongLong(t->ds_checksum);
    }
}

static PyMethodDef traj_methods[] = {
    {"save", (PyCFunction)traj_save, METH_VARARGS, "save(path)"},
    {"export_text", (PyCFunction)traj_export_text, METH_VARARGS, "export_text(dataset, path)"},
    {"array", (PyCFunction)traj_array, METH_VARARGS, "array(which) -> read-only view"},
    {NULL, NULL, 0, NULL}};

static PyGetSetDef traj_getset[] = {{"name", (getter)traj_get, NULL, NULL, (void *)0},
                                    {"n_ckpt", (getter)traj_get, NULL, NULL, (void *)1},
                                    {"k", (getter)traj_get, NULL, NULL, (void *)2},
                                    {"n_users", (getter)traj_get, NULL, NULL, (void *)3},
                                    {"n_items", (getter)traj_get, NULL, NULL, (void *)4},
                                    {"ds_checksum", (getter)traj_get, NULL, NULL, (void *)5},
                                    {NULL, NULL, NULL, NULL, NULL}};

/* ======================================================================== Progress */

/* A Python progress callable called after each evaluation; the first exception it raises is
 * kept (and later calls skipped) until the C call returns, then re-raised. */
typedef struct {
    PyObject *fn;
    PyObject *type, *value, *tb;
} progress_ctx;

static void on_progress(void *ud, int32_t epoch, double loss, const hc_eval_result *res)
{
    progress_ctx *p = ud;
    PyGILState_STATE g = PyGILState_Ensure();
    if (!p->type) {
        PyObject *r = PyObject_CallFunction(p->fn, "idN", epoch, loss, eval_dict(res));
        if (!r)
            PyErr_Fetch(&p->type, &p->value, &p->tb);
        Py_XDECREF(r);
    }
    PyGILState_Release(g);
}

/* Re-raises the callback's exception, if any: -1 then. */
static int progress_done(progress_ctx *p)
{
    if (!p->type)
        return 0;
    PyErr_Restore(p->type, p->value, p->tb);
    return -1;
}

/* ======================================================================== Models */

static PyObject *py_model_load(PyObject *self, PyObject *args)
{
    (void)self;
    const char *path;
    PyObject *dso;
    const hc_dataset *ds;
    if (!PyArg_ParseTuple(args, "sO", &path, &dso) || opt_dataset(dso, &ds) < 0)
        return NULL;
    hc_model *m = NULL;
    int rc;
    PyThreadState *ts_ = PyEval_SaveThread();
    rc = hc_model_load(path, ds, &m);
    PyEval_RestoreThread(ts_);
    if (rc != HC_OK)
        return raise_hc(rc);
    return wrap_model(m);
}

static PyObject *model_save(ModelObject *o, PyObject *args)
{
    const char *path;
    if (!PyArg_ParseTuple(args, "s", &path))
        return NULL;
    int rc;
    PyThreadState *ts_ = PyEval_SaveThread();
    model_enter(o);
    rc = hc_model_save(o->m, path);
    model_leave(o);
    PyEval_RestoreThread(ts_);
    if (rc != HC_OK)
        return raise_hc(rc);
    Py_RETURN_NONE;
}

/* (items, scores, counts) of users (int32 1-d) under the model, k each, exclude 0/1/2. */
static PyObject *model_recommend(ModelObject *o, PyObject *args)
{
    DatasetObject *d;
    PyObject *uo;
    int k, ex;
    if (!PyArg_ParseTuple(args, "O!Oii", &DatasetType, &d, &uo, &k, &ex))
        return NULL;
    PyArrayObject *ua = i32_array(uo, 1, "users");
    if (!ua)
        return NULL;
    const npy_intp n = PyArray_SIZE(ua);
    npy_intp d2[2] = {n, k > 0 ? k : 0}, d1[1] = {n};
    PyArrayObject *items = (PyArrayObject *)PyArray_SimpleNew(2, d2, NPY_INT32);
    PyArrayObject *scores = (PyArrayObject *)PyArray_SimpleNew(2, d2, NPY_FLOAT32);
    PyArrayObject *count = (PyArrayObject *)PyArray_SimpleNew(1, d1, NPY_INT32);
    if (!items || !scores || !count || n > INT32_MAX)
        goto fail;
    int rc;
    const int32_t *u = PyArray_DATA(ua);
    int32_t *it = PyArray_DATA(items), *cnt = PyArray_DATA(count);
    float *sc = PyArray_DATA(scores);
    PyThreadState *ts_ = PyEval_SaveThread();
    model_enter(o);
    rc = hc_recommend(o->m, &d->ds, u, (int32_t)n, k, (hc_exclude)ex, it, sc, cnt);
    model_leave(o);
    PyEval_RestoreThread(ts_);
    if (rc != HC_OK) {
        raise_hc(rc);
        goto fail;
    }
    return Py_BuildValue("(NNN)", items, scores, count);
fail:
    if (!PyErr_Occurred())
        PyErr_SetString(PyExc_ValueError, "too many users in one call");
    Py_XDECREF(items);
    Py_XDECREF(scores);
    Py_XDECREF(count);
    return NULL;
}

/* (items, scores) of the k items most like each of items (int32 1-d). */
static PyObject *model_similar(ModelObject *o, PyObject *args)
{
    PyObject *io;
    int k;
    const char *metric;
    if (!PyArg_ParseTuple(args, "Ois", &io, &k, &metric))
        return NULL;
    PyArrayObject *ia = i32_array(io, 1, "items");
    if (!ia)
        return NULL;
    const npy_intp n = PyArray_SIZE(ia);
    npy_intp d2[2] = {n, k > 0 ? k : 0};
    PyArrayObject *items = (PyArrayObject *)PyArray_SimpleNew(2, d2, NPY_INT32);
    PyArrayObject *scores = (PyArrayObject *)PyArray_SimpleNew(2, d2, NPY_FLOAT32);
    if (!items || !scores) {
        Py_XDECREF(items);
        Py_XDECREF(scores);
        return NULL;
    }
    int rc;
    const int32_t *q = PyArray_DATA(ia);
    int32_t *it = PyArray_DATA(items);
    float *sc = PyArray_DATA(scores);
    PyThreadState *ts_ = PyEval_SaveThread();
    model_enter(o);
    rc = hc_similar_items(o->m, q, (int32_t)n, k, metric, it, sc);
    model_leave(o);
    PyEval_RestoreThread(ts_);
    if (rc != HC_OK) {
        Py_DECREF(items);
        Py_DECREF(scores);
        return raise_hc(rc);
    }
    return Py_BuildValue("(NN)", items, scores);
}

/* Scores of users (int32 1-d) against every item: n x n_items float32. */
static PyObject *model_score(ModelObject *o, PyObject *args)
{
    PyObject *uo;
    if (!PyArg_ParseTuple(args, "O", &uo))
        return NULL;
    PyArrayObject *ua = i32_array(uo, 1, "users");
    if (!ua)
        return NULL;
    const int32_t n = (int32_t)PyArray_SIZE(ua), nu = hc_model_n_users(o->m), *u = PyArray_DATA(ua);
    for (int32_t j = 0; j < n; j++)
        if (u[j] < 0 || u[j] >= nu)
            return PyErr_Format(PyExc_IndexError, "user %d at position %d is outside 0..%d", u[j],
                                j, nu - 1);
    npy_intp d2[2] = {n, hc_model_n_items(o->m)};
    PyArrayObject *out = (PyArrayObject *)PyArray_SimpleNew(2, d2, NPY_FLOAT32);
    if (!out)
        return NULL;
    int rc;
    float *s = PyArray_DATA(out);
    PyThreadState *ts_ = PyEval_SaveThread();
    model_enter(o);
    rc = n ? hc_model_score(o->m, u, n, s) : HC_OK;
    model_leave(o);
    PyEval_RestoreThread(ts_);
    if (rc != HC_OK) {
        Py_DECREF(out);
        return raise_hc(rc);
    }
    return (PyObject *)out;
}

static PyObject *model_evaluate(ModelObject *o, PyObject *args)
{
    DatasetObject *d;
    if (!PyArg_ParseTuple(args, "O!", &DatasetType, &d))
        return NULL;
    hc_eval_result r;
    int rc;
    PyThreadState *ts_ = PyEval_SaveThread();
    model_enter(o);
    rc = hc_model_evaluate(&d->ds, o->m, &r);
    model_leave(o);
    PyEval_RestoreThread(ts_);
    if (rc != HC_OK)
        return raise_hc(rc);
    return eval_dict(&r);
}

static PyObject *model_get(ModelObject *o, void *what)
{
    switch ((int)(intptr_t)what) {
    case 0:
        return PyUnicode_FromString(hc_model_family(o->m));
    case 1:
        return PyLong_FromLong(hc_model_n_users(o->m));
    case 2:
        return PyLong_FromLong(hc_model_n_items(o->m));
    default: {
        int64_t n;
        PyThreadState *ts_ = PyEval_SaveThread();
        model_enter(o);
        n = hc_model_n_params(o->m);
        model_leave(o);
        PyEval_RestoreThread(ts_);
        return PyLong_FromLongLong(n);
    }
    }
}

static PyMethodDef model_methods[] = {
    {"save", (PyCFunction)model_save, METH_VARARGS, "save(path)"},
    {"recommend", (PyCFunction)model_recommend, METH_VARARGS,
     "recommend(dataset, users, k, exclude) -> (items, scores, counts)"},
    {"similar", (PyCFunction)model_similar, METH_VARARGS,
     "similar(items, k, metric) -> (items, scores)"},
    {"score", (PyCFunction)model_score, METH_VARARGS, "score(users) -> scores"},
    {"evaluate", (PyCFunction)model_evaluate, METH_VARARGS, "evaluate(dataset) -> dict"},
    {NULL, NULL, 0, NULL}};

static PyGetSetDef model_getset[] = {{"family", (getter)model_get, NULL, NULL, (void *)0},
                                     {"n_users", (getter)model_get, NULL, NULL, (void *)1},
                                     {"n_items", (getter)model_get, NULL, NULL, (void *)2},
                                     {"n_params", (getter)model_get, NULL, NULL, (void *)3},
                                     {NULL, NULL, NULL, NULL, NULL}};

/* ======================================================================== Pipeline */

static PyObject *py_train_teacher(PyObject *self, PyObject *args)
{
    (void)self;
    DatasetObject *d;
    const char *family;
    PyObject *params, *prog, *keep = NULL;
    int want_traj;
    if (!PyArg_ParseTuple(args, "O!sOOp", &DatasetType, &d, &family, &params, &prog, &want_traj))
        return NULL;
    const char **pv = str_list(params, &keep);
    TrajObject *t = pv && want_traj ? new_traj() : NULL;
    PyObject *out = NULL;
    if (pv && (!want_traj || t)) {
        progress_ctx pc = {prog, NULL, NULL, NULL};
        hc_model *m = NULL;
        hc_train_summary sum;
        int rc;
        PyThreadState *ts_ = PyEval_SaveThread();
        rc = hc_train_teacher(&d->ds, family, pv, prog != Py_None ? on_progress : NULL, &pc, &m,
                              t ? &t->t : NULL, &sum);
        PyEval_RestoreThread(ts_);
        if (progress_done(&pc) < 0)
            hc_model_free(m);
        else if (rc != HC_OK)
            raise_hc(rc);
        else
            out = Py_BuildValue("(NON)", wrap_model(m), t ? (PyObject *)t : Py_None,
                                summary_dict(&sum));
    }
    Py_XDECREF(t);
    Py_XDECREF(keep);
    PyMem_Free(pv);
    return out;
}

static PyObject *py_ensemble(PyObject *self, PyObject *args)
{
    (void)self;
    DatasetObject *d;
    PyObject *trajs, *wo, *keep = NULL;
    float temperature;
    int k, want_lists;
    if (!PyArg_ParseTuple(args, "O!OOfip", &DatasetType, &d, &trajs, &wo, &temperature, &k,
                          &want_lists))
        return NULL;
    int32_t n = 0;
    const hc_traj **tv = traj_list(trajs, &keep, &n);
    PyArrayObject *w = NULL;
    PyObject *out = NULL;
    if (tv && wo != Py_None &&
        !(w = (PyArrayObject *)PyArray_FROMANY(wo, NPY_FLOAT32, 1, 1, NPY_ARRAY_IN_ARRAY)))
        goto done;
    if (w && PyArray_SIZE(w) != n) {
        PyErr_Format(PyExc_ValueError, "weights: %zd values for %d trajectories",
                     (Py_ssize_t)PyArray_SIZE(w), n);
        goto done;
    }
    TrajObject *lists = tv && want_lists ? new_traj() : NULL;
    if (tv && (!want_lists || lists)) {
        hc_eval_result res;
        int rc;
        const float *wp = w ? PyArray_DATA(w) : NULL;
        PyThreadState *ts_ = PyEval_SaveThread();
        rc = hc_ensemble_build(&d->ds, tv, n, wp, temperature, k, lists ? &lists->t : NULL, &res);
        PyEval_RestoreThread(ts_);
        if (rc != HC_OK)
            raise_hc(rc);
        else
            out = Py_BuildValue("(ON)", lists ? (PyObject *)lists : Py_None, eval_dict(&res));
    }
    Py_XDECREF(lists);
done:
    Py_XDECREF(w);
    Py_XDECREF(keep);
    PyMem_Free(tv);
    return out;
}

static PyObject *py_distill(PyObject *self, PyObject *args)
{
    (void)self;
    DatasetObject *d;
    const char *method;
    PyObject *trajs, *params, *prog, *keep_t = NULL, *keep_p = NULL;
    if (!PyArg_ParseTuple(args, "O!sOOO", &DatasetType, &d, &method, &trajs, &params, &prog))
        return NULL;
    int32_t n = 0;
    const hc_traj **tv = traj_list(trajs, &keep_t, &n);
    const char **pv = tv ? str_list(params, &keep_p) : NULL;
    PyObject *out = NULL;
    if (pv) {
        progress_ctx pc = {prog, NULL, NULL, NULL};
        hc_model *m = NULL;
        hc_train_summary sum;
        int rc;
        PyThreadState *ts_ = PyEval_SaveThread();
        rc = hc_distill(&d->ds, method, tv, n, pv, prog != Py_None ? on_progress : NULL, &pc, &m,
                        &sum);
        PyEval_RestoreThread(ts_);
        if (progress_done(&pc) < 0)
            hc_model_free(m);
        else if (rc != HC_OK)
            raise_hc(rc);
        else
            out = Py_BuildValue("(NN)", wrap_model(m), summary_dict(&sum));
    }
    Py_XDECREF(keep_t);
    Py_XDECREF(keep_p);
    PyMem_Free(tv);
    PyMem_Free(pv);
    return out;
}

/* ======================================================================== Registries */

/* [(name, title), ...] of the families (0) or the methods (1). */
static PyObject *py_registry(PyObject *self, PyObject *args)
{
    (void)self;
    int which;
    if (!PyArg_ParseTuple(args, "i", &which))
        return NULL;
    const int32_t n = which ? hc_method_count() : hc_family_count();
    PyObject *list = PyList_New(n);
    for (int32_t i = 0; list && i < n; i++) {
        PyObject *e = which ? Py_BuildValue("(ss)", hc_method_name(i), hc_method_title(i))
                            : Py_BuildValue("(ss)", hc_family_name(i), hc_family_title(i));
        if (!e)
            Py_CLEAR(list);
        else
            PyList_SET_ITEM(list, i, e);
    }
    return list;
}

/* [{name, type, lo, hi, help, default}, ...] of a scope (hc_param_describe). */
static PyObject *py_params(PyObject *self, PyObject *args)
{
    (void)self;
    const char *scope;
    if (!PyArg_ParseTuple(args, "s", &scope))
        return NULL;
    const int32_t n = hc_param_count(scope);
    if (n < 0)
        return PyErr_Format(PyExc_ValueError, "no hyperparameter scope '%s'", scope);
    PyObject *list = PyList_New(n);
    for (int32_t i = 0; list && i < n; i++) {
        hc_param_info p;
        int rc = hc_param_describe(scope, i, &p);
        PyObject *e =
            rc != HC_OK ? raise_hc(rc)
                        : Py_BuildValue("{s:s,s:s,s:d,s:d,s:s,s:s}", "name", p.name, "type", p.type,
                                        "lo", p.lo, "hi", p.hi, "help", p.help, "default", p.def);
        if (!e)
            Py_CLEAR(list);
        else
            PyList_SET_ITEM(list, i, e);
    }
    return list;
}

static PyObject *py_set_threads(PyObject *self, PyObject *args)
{
    (void)self;
    int n;
    if (!PyArg_ParseTuple(args, "i", &n))
        return NULL;
    hc_set_threads(n);
    Py_RETURN_NONE;
}

/* ======================================================================== Logging */

static PyObject *log_callable; /* fn(level, msg), or NULL; changed under the GIL */

static void log_sink(int level, const char *msg, void *ud)
{
    (void)ud;
    if (!Py_IsInitialized() || HC_PY_FINALIZING())
        return;
    PyGILState_STATE g = PyGILState_Ensure();
    PyObject *fn = log_callable;
    if (fn) {
        Py_INCREF(fn);
        PyObject *r = PyObject_CallFunction(
            fn, "iN", level, PyUnicode_DecodeUTF8(msg, (Py_ssize_t)strlen(msg), "replace"));
        if (!r)
            PyErr_WriteUnraisable(fn);
        Py_XDECREF(r);
        Py_DECREF(fn);
    }
    PyGILState_Release(g);
}

/* set_log(fn or None, min_level): the library's log lines go to fn(level, msg). */
static PyObject *py_set_log(PyObject *self, PyObject *args)
{
    (void)self;
    PyObject *fn;
    int level;
    if (!PyArg_ParseTuple(args, "Oi", &fn, &level))
        return NULL;
    PyObject *old = log_callable;
    log_callable = fn == Py_None ? NULL : fn;
    Py_XINCREF(log_callable);
    hc_log_set(log_callable ? log_sink : NULL, NULL, level);
    Py_XDECREF(old);
    Py_RETURN_NONE;
}

/* ======================================================================== Module */

static PyMethodDef module_methods[] = {
    {"dataset_from_ids", py_dataset_from_ids, METH_VARARGS, NULL},
    {"dataset_from_file", py_dataset_from_file, METH_VARARGS, NULL},
    {"dataset_import", py_dataset_import, METH_VARARGS, NULL},
    {"dataset_load", py_dataset_load, METH_VARARGS, NULL},
    {"dataset_from_arrays", py_dataset_from_arrays, METH_VARARGS, NULL},
    {"dataset_synth", py_dataset_synth, METH_VARARGS, NULL},
    {"traj_from_arrays", py_traj_from_arrays, METH_VARARGS, NULL},
    {"traj_load", py_traj_load, METH_VARARGS, NULL},
    {"traj_import_text", py_traj_import_text, METH_VARARGS, NULL},
    {"model_load", py_model_load, METH_VARARGS, NULL},
    {"train_teacher", py_train_teacher, METH_VARARGS, NULL},
    {"ensemble", py_ensemble, METH_VARARGS, NULL},
    {"distill", py_distill, METH_VARARGS, NULL},
    {"registry", py_registry, METH_VARARGS, NULL},
    {"params", py_params, METH_VARARGS, NULL},
    {"set_threads", py_set_threads, METH_VARARGS, NULL},
    {"set_log", py_set_log, METH_VARARGS, NULL},
    {NULL, NULL, 0, NULL}};

static struct PyModuleDef module_def = {PyModuleDef_HEAD_INIT,
                                        "hetcomp._hetcomp",
                                        "The C core of the hetcomp package (use hetcomp).",
                                        -1,
                                        module_methods,
                                        NULL,
                                        NULL,
                                        NULL,
                                        NULL};

/* Fills a handle type: opaque (no constructor from Python), freed by dealloc. */
static int ready_type(PyTypeObject *t, const char *name, Py_ssize_t size, destructor dealloc,
                      PyMethodDef *methods, PyGetSetDef *getset)
{
    t->tp_name = name;
    t->tp_basicsize = size;
    t->tp_dealloc = dealloc;
    t->tp_flags = Py_TPFLAGS_DEFAULT;
    t->tp_doc = "An opaque handle on a C object of the hetcomp library.";
    t->tp_methods = methods;
    t->tp_getset = getset;
    return PyType_Ready(t);
}

/* The module's one exported symbol (-Wmissing-prototypes wants it declared). */
PyMODINIT_FUNC PyInit__hetcomp(void);
PyMODINIT_FUNC PyInit__hetcomp(void)
{
    import_array();
    if (ready_type(&DatasetType, "hetcomp._hetcomp.DatasetHandle", sizeof(DatasetObject),
                   (destructor)dataset_dealloc, dataset_methods, dataset_getset) < 0 ||
        ready_type(&TrajType, "hetcomp._hetcomp.TrajHandle", sizeof(TrajObject),
                   (destructor)traj_dealloc, traj_methods, traj_getset) < 0 ||
        ready_type(&ModelType, "hetcomp._hetcomp.ModelHandle", sizeof(ModelObject),
                   (destructor)model_dealloc, model_methods, model_getset) < 0)
        return NULL;
    PyObject *m = PyModule_Create(&module_def);
    if (!m)
        return NULL;
    HcError = PyErr_NewExceptionWithDoc(
        "hetcomp.Error",
        "An error of the hetcomp library: str(e) is its message (hc_errmsg), naming the file, "
        "line or parameter; e.code is the status (negative) and e.name its symbol (HC_EPARSE).",
        NULL, NULL);
    if (!HcError || PyModule_AddObject(m, "Error", HcError) < 0 ||
        PyModule_AddStringConstant(m, "version", HC_VERSION_STRING) < 0 ||
        PyModule_AddObject(m, "eval_ks",
                           Py_BuildValue("(iii)", hc_eval_ks[0], hc_eval_ks[1], hc_eval_ks[2])) <
            0) {
        Py_DECREF(m);
        return NULL;
    }
    Py_INCREF(HcError);
    PyTypeObject *types[3] = {&DatasetType, &TrajType, &ModelType};
    static const char *const names[3] = {"DatasetHandle", "TrajHandle", "ModelHandle"};
    for (int t = 0; t < 3; t++) {
        Py_INCREF(types[t]);
        if (PyModule_AddObject(m, names[t], (PyObject *)types[t]) < 0) {
            Py_DECREF(types[t]);
            Py_DECREF(m);
            return NULL;
        }
    }
    return m;
}
