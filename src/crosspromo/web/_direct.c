/* The direct redirect's answer in C (``crosspromo.web.direct``): from a parsed request of
 * ``/r/{code}`` whose link and visitor salt the server's process keeps, the click's journal
 * line (``tracking.journal.encode`` of ``RedirectApp.click``'s row) and the whole 302 response.
 *
 * It does what ``RedirectApp.click``, ``journal.encode`` and the Python answer did, byte for
 * byte (tests/web/test_direct_c.py compares them on generated requests): the visitor's keyed
 * hash (the salt's HMAC object, copied), the click id (the second in base62, then 18 random
 * base62 characters from the OS's random source, each byte below 248 taken modulo 62), the
 * time in ISO 8601 with microseconds, the visit's hour, the bot flag (the kept table, made in
 * Python), the referer (its first 500 characters, JSON-escaped as Python's json module escapes
 * to ASCII). It holds the interpreter's lock throughout.
 *
 * Anything it does not answer it leaves to Python (None): a path that is not plain ASCII, a
 * link not kept or no longer fresh, one that cannot be answered directly, a salt of another
 * day. */

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#define PREFIX "/r/"
#define PREFIX_LENGTH 3
#define CLICK_TIME_LENGTH 6
#define CLICK_RANDOM_LENGTH 18
#define REFERER_LIMIT 500
#define HEX_LENGTH 64
#define VISIT_HEX 32

static const char BASE62[] = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
static const char ORDERED[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
static const char HEX[] = "0123456789abcdef";
static const char FOUND[] = "HTTP/1.1 302 Found\r\n";
static const char CLOSE[] = "connection: close\r\n";

static PyObject *name_copy, *name_update, *name_hexdigest;

/* Random bytes, read from the OS 4 KiB at a time; emptied in a forked child, which must not
 * hand out its parent's. */
static unsigned char pool[4096];
static size_t pool_left = 0;

static void pool_forget(void) { pool_left = 0; }

static int pool_byte(unsigned char *byte) {
    if (pool_left == 0) {
        size_t filled = 0;
        while (filled < sizeof(pool)) {
            ssize_t got = getrandom(pool + filled, sizeof(pool) - filled, 0);
            if (got < 0) {
                if (errno == EINTR) continue;
                PyErr_SetFromErrno(PyExc_OSError);
                return -1;
            }
            filled += (size_t)got;
        }
        pool_left = sizeof(pool);
    }
    *byte = pool[sizeof(pool) - pool_left];
    pool[sizeof(pool) - pool_left] = 0; /* not kept once used */
    pool_left--;
    return 0;
}

static char *digits(char *out, long value, int width) {
    for (int i = width - 1; i >= 0; i--) {
        out[i] = (char)('0' + value % 10);
        value /= 10;
    }
    return out + width;
}

static char *put(char *out, const char *text, Py_ssize_t length) {
    memcpy(out, text, (size_t)length);
    return out + length;
}

/* ``text`` (a character a byte, as latin-1 decodes it) as json's encode_basestring_ascii
 * writes it, quotes included. At most 6 bytes a character, and 2. */
static char *json_latin1(char *out, const unsigned char *text, Py_ssize_t length) {
    *out++ = '"';
    for (Py_ssize_t i = 0; i < length; i++) {
        unsigned char c = text[i];
        if (c >= ' ' && c <= '~' && c != '\\' && c != '"') {
            *out++ = (char)c;
            continue;
        }
        *out++ = '\\';
        switch (c) {
            case '\\': *out++ = '\\'; break;
            case '"': *out++ = '"'; break;
            case '\b': *out++ = 'b'; break;
            case '\f': *out++ = 'f'; break;
            case '\n': *out++ = 'n'; break;
            case '\r': *out++ = 'r'; break;
            case '\t': *out++ = 't'; break;
            default:
                *out++ = 'u';
                *out++ = '0';
                *out++ = '0';
                *out++ = HEX[c >> 4];
                *out++ = HEX[c & 15];
        }
    }
    *out++ = '"';
    return out;
}

/* The bytes of ``value`` (a borrowed view) in ``data`` and ``length``: 0, or -1 with a
 * TypeError naming ``what`` if it is not a bytes object. */
static int bytes_of(PyObject *value, const char *what, const char **data, Py_ssize_t *length) {
    if (!PyBytes_Check(value)) {
        PyErr_Format(PyExc_TypeError, "%s must be bytes", what);
        return -1;
    }
    *data = PyBytes_AS_STRING(value);
    *length = PyBytes_GET_SIZE(value);
    return 0;
}

/* The visitor's hash: hexdigest of ``hasher.copy()`` updated with the UTF-8 of
 * "{address}|{agent}" (the agent decoded as latin-1). A new reference to its 64 characters
 * (ASCII), or NULL. */
static PyObject *visitor_hash(PyObject *hasher, PyObject *address, const unsigned char *agent,
                              Py_ssize_t agent_length) {
    Py_ssize_t address_length;
    const char *address_utf8 = PyUnicode_AsUTF8AndSize(address, &address_length);
    if (address_utf8 == NULL) return NULL;
    PyObject *message = PyBytes_FromStringAndSize(NULL, address_length + 1 + 2 * agent_length);
    if (message == NULL) return NULL;
    char *out = PyBytes_AS_STRING(message);
    out = put(out, address_utf8, address_length);
    *out++ = '|';
    for (Py_ssize_t i = 0; i < agent_length; i++) {
        unsigned char c = agent[i];
        if (c < 0x80) {
            *out++ = (char)c;
        } else {
            *out++ = (char)(0xC0 | (c >> 6));
            *out++ = (char)(0x80 | (c & 0x3F));
        }
    }
    if (_PyBytes_Resize(&message, out - PyBytes_AS_STRING(message)) < 0) return NULL;
    PyObject *keyed = PyObject_CallMethodNoArgs(hasher, name_copy);
    if (keyed == NULL) {
        Py_DECREF(message);
        return NULL;
    }
    PyObject *updated = PyObject_CallMethodOneArg(keyed, name_update, message);
    Py_DECREF(message);
    if (updated == NULL) {
        Py_DECREF(keyed);
        return NULL;
    }
    Py_DECREF(updated);
    PyObject *hex = PyObject_CallMethodNoArgs(keyed, name_hexdigest);
    Py_DECREF(keyed);
    if (hex == NULL) return NULL;
    if (!PyUnicode_Check(hex) || !PyUnicode_IS_ASCII(hex) ||
        PyUnicode_GET_LENGTH(hex) != HEX_LENGTH) {
        Py_DECREF(hex);
        PyErr_SetString(PyExc_ValueError, "the visitor hasher is not a SHA-256 HMAC");
        return NULL;
    }
    return hex;
}

struct request {
    int head, https, keep_alive;
    const unsigned char *agent, *referer;
    Py_ssize_t agent_length, referer_length;
    PyObject *address, *hasher, *bots, *date, *tails;
    const char *line_head, *before, *after;
    Py_ssize_t line_head_length, before_length, after_length;
    long long seconds;
    long micro;
    struct tm utc;
};

/* The line and the response of a request whose link and salt are known. */
static PyObject *finish(const struct request *r) {
    int year = r->utc.tm_year + 1900, month = r->utc.tm_mon + 1, day = r->utc.tm_mday;
    int bot = 1;
    if (!r->head) {
        PyObject *agent_text =
            PyUnicode_DecodeLatin1((const char *)r->agent, r->agent_length, NULL);
        if (agent_text == NULL) return NULL;
        PyObject *flag = PyObject_GetItem(r->bots, agent_text);
        Py_DECREF(agent_text);
        if (flag == NULL) return NULL;
        bot = PyObject_IsTrue(flag);
        Py_DECREF(flag);
        if (bot < 0) return NULL;
    }

    PyObject *visitor = visitor_hash(r->hasher, r->address, r->agent, r->agent_length);
    if (visitor == NULL) return NULL;
    const char *visitor_text = (const char *)PyUnicode_DATA(visitor);

    char click_id[CLICK_TIME_LENGTH + CLICK_RANDOM_LENGTH];
    unsigned long long number = (unsigned long long)r->seconds;
    for (int i = CLICK_TIME_LENGTH - 1; i >= 0; i--) {
        click_id[i] = ORDERED[number % 62];
        number /= 62;
    }
    for (int taken = 0; taken < CLICK_RANDOM_LENGTH;) {
        unsigned char byte;
        if (pool_byte(&byte) < 0) {
            Py_DECREF(visitor);
            return NULL;
        }
        if (byte < 62 * 4) click_id[CLICK_TIME_LENGTH + taken++] = BASE62[byte % 62];
    }

    /* the journal line: [link,org,partner,"id","time","visitor","key",referer,bot] */
    Py_ssize_t bound = r->line_head_length + (Py_ssize_t)sizeof(click_id) + 34 + HEX_LENGTH +
                       VISIT_HEX + 11 + 6 * r->referer_length + 96;
    PyObject *line = PyBytes_FromStringAndSize(NULL, bound);
    if (line == NULL) {
        Py_DECREF(visitor);
        return NULL;
    }
    char *out = PyBytes_AS_STRING(line);
    out = put(out, r->line_head, r->line_head_length);
    *out++ = '"';
    out = put(out, click_id, sizeof(click_id));
    out = put(out, "\",\"", 3);
    out = digits(out, year, 4);
    *out++ = '-';
    out = digits(out, month, 2);
    *out++ = '-';
    out = digits(out, day, 2);
    *out++ = 'T';
    out = digits(out, r->utc.tm_hour, 2);
    *out++ = ':';
    out = digits(out, r->utc.tm_min, 2);
    *out++ = ':';
    out = digits(out, r->utc.tm_sec, 2);
    *out++ = '.';
    out = digits(out, r->micro, 6);
    out = put(out, "+00:00\",\"", 9);
    out = put(out, visitor_text, HEX_LENGTH);
    out = put(out, "\",\"", 3);
    out = put(out, visitor_text, VISIT_HEX);
    *out++ = ':';
    out = digits(out, year, 4);
    out = digits(out, month, 2);
    out = digits(out, day, 2);
    out = digits(out, r->utc.tm_hour, 2);
    out = put(out, "\",", 2);
    Py_DECREF(visitor);
    if (r->referer_length == 0) {
        out = put(out, "null", 4);
    } else {
        out = json_latin1(out, r->referer, r->referer_length);
    }
    *out++ = ',';
    out = bot ? put(out, "true", 4) : put(out, "false", 5);
    out = put(out, "]\n", 2);
    if (_PyBytes_Resize(&line, out - PyBytes_AS_STRING(line)) < 0) return NULL;

    /* the response: status, date, location, the tail, connection: close if it closes */
    const char *date_text = NULL, *tail = NULL;
    Py_ssize_t date_length = 0, tail_length = 0;
    if (bytes_of(r->date, "date", &date_text, &date_length) < 0 ||
        bytes_of(PyTuple_GET_ITEM(r->tails, r->https ? 1 : 0), "tail", &tail, &tail_length) < 0) {
        Py_DECREF(line);
        return NULL;
    }
    Py_ssize_t size = (Py_ssize_t)sizeof(FOUND) - 1 + date_length + 10 + r->before_length +
                      (Py_ssize_t)sizeof(click_id) + r->after_length + 2 + tail_length +
                      (r->keep_alive ? 0 : (Py_ssize_t)sizeof(CLOSE) - 1) + 2;
    PyObject *response = PyBytes_FromStringAndSize(NULL, size);
    if (response == NULL) {
        Py_DECREF(line);
        return NULL;
    }
    out = PyBytes_AS_STRING(response);
    out = put(out, FOUND, sizeof(FOUND) - 1);
    out = put(out, date_text, date_length);
    out = put(out, "location: ", 10);
    out = put(out, r->before, r->before_length);
    out = put(out, click_id, sizeof(click_id));
    out = put(out, r->after, r->after_length);
    out = put(out, "\r\n", 2);
    out = put(out, tail, tail_length);
    if (!r->keep_alive) out = put(out, CLOSE, sizeof(CLOSE) - 1);
    out = put(out, "\r\n", 2);
    PyObject *made = PyTuple_New(2);
    if (made == NULL) {
        Py_DECREF(line);
        Py_DECREF(response);
        return NULL;
    }
    PyTuple_SET_ITEM(made, 0, line); /* the tuple takes both references */
    PyTuple_SET_ITEM(made, 1, response);
    return made;
}

PyDoc_STRVAR(answer_doc,
"answer(entries, url, head, headers, address, https, keep_alive, salt, bots, date, tails,\n"
"       at=None)\n"
"--\n\n"
"The journal line and the 302 response for a redirect, or None when Python is to answer.\n\n"
"entries: the link cache's dict, code -> (monotonic expiry, link, direct), direct being\n"
"(line head b'[link,org,partner,', location before the click id, after it) or None.\n"
"url: the request's target. head: a HEAD request. headers: (name, value) pairs, names\n"
"in lower case. address: the visitor's. https: the scheme. keep_alive: the connection\n"
"stays open. salt: (year, month, day, hasher) of the kept salt, or None. bots: the\n"
"table of a user agent's bot flag. date: the headers every answer starts with. tails:\n"
"the headers after the location, over http and https. at: (seconds, microseconds) of\n"
"Unix time instead of the clock's (tests).");

static PyObject *answer(PyObject *module, PyObject *const *args, Py_ssize_t nargs,
                        PyObject *kwnames) {
    (void)module;
    if (kwnames != NULL && PyTuple_GET_SIZE(kwnames) > 0) {
        PyErr_SetString(PyExc_TypeError, "answer() takes positional arguments only");
        return NULL;
    }
    if (nargs != 11 && nargs != 12) {
        PyErr_Format(PyExc_TypeError, "answer() takes 11 or 12 arguments (%zd given)", nargs);
        return NULL;
    }
    PyObject *entries = args[0], *url = args[1], *headers = args[3], *address = args[4];
    PyObject *salt = args[7], *bots = args[8], *date = args[9], *tails = args[10];
    PyObject *at = nargs == 12 ? args[11] : Py_None;
    int head = PyObject_IsTrue(args[2]), https = PyObject_IsTrue(args[5]);
    int keep_alive = PyObject_IsTrue(args[6]);
    if (head < 0 || https < 0 || keep_alive < 0) return NULL;
    if (!PyDict_Check(entries) || !PyList_Check(headers) || !PyUnicode_Check(address) ||
        !PyTuple_Check(tails) || PyTuple_GET_SIZE(tails) != 2) {
        PyErr_SetString(PyExc_TypeError, "answer(): an argument of the wrong type");
        return NULL;
    }

    /* the link's code: the path up to a query or fragment, plain ASCII, no escapes */
    const char *target;
    Py_ssize_t target_length;
    if (bytes_of(url, "url", &target, &target_length) < 0) return NULL;
    if (target_length < PREFIX_LENGTH || memcmp(target, PREFIX, PREFIX_LENGTH) != 0)
        Py_RETURN_NONE;
    Py_ssize_t end = PREFIX_LENGTH;
    while (end < target_length && target[end] != '?' && target[end] != '#') {
        unsigned char c = (unsigned char)target[end];
        if (c == '%' || c >= 0x80) Py_RETURN_NONE;
        end++;
    }
    PyObject *code = PyUnicode_DecodeASCII(target + PREFIX_LENGTH, end - PREFIX_LENGTH, NULL);
    if (code == NULL) return NULL;
    PyObject *entry = PyDict_GetItemWithError(entries, code); /* borrowed */
    Py_DECREF(code);
    if (entry == NULL) {
        if (PyErr_Occurred()) return NULL;
        Py_RETURN_NONE;
    }
    if (!PyTuple_Check(entry) || PyTuple_GET_SIZE(entry) != 3) {
        PyErr_SetString(PyExc_TypeError, "a link cache entry is not (expiry, link, direct)");
        return NULL;
    }
    struct timespec clock;
    clock_gettime(CLOCK_MONOTONIC, &clock);
    double expiry = PyFloat_AsDouble(PyTuple_GET_ITEM(entry, 0));
    if (expiry == -1.0 && PyErr_Occurred()) return NULL;
    if (!(expiry > (double)clock.tv_sec + (double)clock.tv_nsec * 1e-9)) Py_RETURN_NONE;
    PyObject *direct = PyTuple_GET_ITEM(entry, 2);
    if (direct == Py_None) Py_RETURN_NONE;
    if (!PyTuple_Check(direct) || PyTuple_GET_SIZE(direct) != 3) {
        PyErr_SetString(PyExc_TypeError, "a link's direct parts are not (head, before, after)");
        return NULL;
    }
    const char *line_head = NULL, *before = NULL, *after = NULL;
    Py_ssize_t line_head_length = 0, before_length = 0, after_length = 0;
    if (bytes_of(PyTuple_GET_ITEM(direct, 0), "the line's head", &line_head,
                 &line_head_length) < 0 ||
        bytes_of(PyTuple_GET_ITEM(direct, 1), "the location's start", &before,
                 &before_length) < 0 ||
        bytes_of(PyTuple_GET_ITEM(direct, 2), "the location's end", &after, &after_length) < 0)
        return NULL;

    /* the time, and the day's salt */
    long long seconds;
    long micro;
    if (at == Py_None) {
        struct timespec now;
        clock_gettime(CLOCK_REALTIME, &now);
        seconds = (long long)now.tv_sec;
        micro = now.tv_nsec / 1000;
    } else {
        if (!PyTuple_Check(at)) {
            PyErr_SetString(PyExc_TypeError, "at: (seconds, microseconds)");
            return NULL;
        }
        if (!PyArg_ParseTuple(at, "Ll", &seconds, &micro)) return NULL;
        if (micro < 0 || micro > 999999 || seconds < 0) {
            PyErr_SetString(PyExc_ValueError, "at: (seconds, microseconds) after 1970");
            return NULL;
        }
    }
    if (seconds >= 56800235584LL) { /* 62**6: the click id's time would not fit */
        PyErr_SetString(PyExc_ValueError, "the time does not fit in a click id");
        return NULL;
    }
    time_t whole = (time_t)seconds;
    struct tm utc;
    if (gmtime_r(&whole, &utc) == NULL) {
        PyErr_SetString(PyExc_ValueError, "the time is out of range");
        return NULL;
    }
    int year = utc.tm_year + 1900, month = utc.tm_mon + 1, day = utc.tm_mday;
    if (salt == Py_None) Py_RETURN_NONE;
    int salt_year, salt_month, salt_day;
    PyObject *hasher;
    if (!PyTuple_Check(salt)) {
        PyErr_SetString(PyExc_TypeError, "salt: (year, month, day, hasher)");
        return NULL;
    }
    if (!PyArg_ParseTuple(salt, "iiiO", &salt_year, &salt_month, &salt_day, &hasher))
        return NULL;
    if (salt_year != year || salt_month != month || salt_day != day) Py_RETURN_NONE;

    /* the agent and referer: the last of each */
    const unsigned char *agent = (const unsigned char *)"", *referer = agent;
    Py_ssize_t agent_length = 0, referer_length = 0;
    PyObject *agent_object = NULL, *referer_object = NULL; /* the values they are in */
    Py_ssize_t count = PyList_GET_SIZE(headers);
    for (Py_ssize_t i = 0; i < count; i++) {
        PyObject *pair = PyList_GET_ITEM(headers, i);
        if (!PyTuple_Check(pair) || PyTuple_GET_SIZE(pair) != 2 ||
            !PyBytes_Check(PyTuple_GET_ITEM(pair, 0)) ||
            !PyBytes_Check(PyTuple_GET_ITEM(pair, 1))) {
            PyErr_SetString(PyExc_TypeError, "a header is not a (bytes, bytes) pair");
            return NULL;
        }
        PyObject *name = PyTuple_GET_ITEM(pair, 0), *value = PyTuple_GET_ITEM(pair, 1);
        Py_ssize_t name_length = PyBytes_GET_SIZE(name);
        const char *name_text = PyBytes_AS_STRING(name);
        if (name_length == 10 && memcmp(name_text, "user-agent", 10) == 0) {
            agent_object = value;
            agent = (const unsigned char *)PyBytes_AS_STRING(value);
            agent_length = PyBytes_GET_SIZE(value);
        } else if (name_length == 7 && memcmp(name_text, "referer", 7) == 0) {
            referer_object = value;
            referer = (const unsigned char *)PyBytes_AS_STRING(value);
            referer_length = PyBytes_GET_SIZE(value);
        }
    }
    if (referer_length > REFERER_LIMIT) referer_length = REFERER_LIMIT;

    /* what the rest reads is held: Python code it runs (the bot table's, a collection's)
     * cannot free it */
    struct request request = {
        .head = head, .https = https, .keep_alive = keep_alive,
        .agent = agent, .agent_length = agent_length,
        .referer = referer, .referer_length = referer_length,
        .address = address, .hasher = hasher, .bots = bots, .date = date, .tails = tails,
        .line_head = line_head, .line_head_length = line_head_length,
        .before = before, .before_length = before_length,
        .after = after, .after_length = after_length,
        .seconds = seconds, .micro = micro, .utc = utc,
    };
    Py_INCREF(direct);
    Py_XINCREF(agent_object);
    Py_XINCREF(referer_object);
    PyObject *made = finish(&request);
    Py_DECREF(direct);
    Py_XDECREF(agent_object);
    Py_XDECREF(referer_object);
    return made;
}

static PyMethodDef methods[] = {
    {"answer", (PyCFunction)(void (*)(void))answer, METH_FASTCALL | METH_KEYWORDS, answer_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT,
    .m_name = "crosspromo.web._direct",
    .m_doc = "The direct redirect's answer in C (crosspromo.web.direct).",
    .m_size = -1,
    .m_methods = methods,
};

PyMODINIT_FUNC PyInit__direct(void) {
    name_copy = PyUnicode_InternFromString("copy");
    name_update = PyUnicode_InternFromString("update");
    name_hexdigest = PyUnicode_InternFromString("hexdigest");
    if (name_copy == NULL || name_update == NULL || name_hexdigest == NULL) return NULL;
    if (pthread_atfork(NULL, NULL, pool_forget) != 0) {
        PyErr_SetString(PyExc_OSError, "pthread_atfork failed");
        return NULL;
    }
    return PyModule_Create(&module_def);
}
