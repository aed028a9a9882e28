/* PyEval_CallObject for durable_rules' engine module on Python 3.13 and later.
 *
 * Up to Python 3.12, PyEval_CallObject was a deprecated macro (for
 * PyEval_CallObjectWithKeywords); Python 3.13 removed it. durable_rules
 * 2.0.28 (unmaintained) still names it, so its engine module, compiled on
 * 3.13, refers to a symbol no interpreter exports and the dynamic loader
 * refuses to load it ("undefined symbol: PyEval_CallObject").
 *
 * This module exports that symbol, defined as PyObject_CallObject.
 * advisor._durable imports it with RTLD_GLOBAL before the engine module, so
 * the loader resolves the engine's reference here.
 *
 * The engine calls it only from its storage callbacks (set with
 * Host.set_store_message_callback and its kin), which advisor never sets.
 * They must stay unset: compiled without a declaration, those call sites
 * read the returned pointer as a 32-bit int.
 *
 * Built on every supported version (on 3.11 and 3.12 the module is empty), so
 * a wheel is always tagged for the Python it was built for.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#if PY_VERSION_HEX >= 0x030D0000
__attribute__((visibility("default"))) PyObject *
PyEval_CallObject(PyObject *callable, PyObject *args);

PyObject *
PyEval_CallObject(PyObject *callable, PyObject *args)
{
    return PyObject_CallObject(callable, args);
}
#endif

static struct PyModuleDef pyeval_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "advisor._pyeval",
    .m_doc = "PyEval_CallObject for durable_rules' engine module on Python 3.13 and later.",
    .m_size = 0,
};

PyMODINIT_FUNC
PyInit__pyeval(void)
{
    return PyModule_Create(&pyeval_module);
}
