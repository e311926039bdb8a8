{
  "targets": [
    {
      "target_name": "tern_native",
      "sources": ["src/native/tern_native.c"],
      "cflags": ["-O2", "-Wall", "-Wextra", "-Wno-unused-parameter", "-std=gnu11"],
      "defines": ["NAPI_VERSION=8"]
    }
  ]
}
