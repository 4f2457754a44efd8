-- PL/Python runs Debian's /usr/bin/python3, not the project's virtualenv.
-- The project's own code (etl/) and its pinned dependencies (a pip --target
-- directory built at set-up from constraints.txt, same versions as the client)
-- are put on sys.path by this bootstrap, from the server setting
-- assocdata.python_path (written by the embedded cluster; on your own server:
-- ALTER DATABASE ... SET assocdata.python_path = '<dir>:<repo>/etl').
-- Every PL/Python function of the project starts with:
--     plpy.execute('SELECT assocdata.python_bootstrap()')  (cached in GD)
CREATE OR REPLACE FUNCTION assocdata.python_bootstrap() RETURNS text
LANGUAGE plpython3u VOLATILE AS $$
import sys
if GD.get('assocdata_bootstrapped'):
    return GD['assocdata_bootstrapped']
setting = plpy.execute(
    "SELECT current_setting('assocdata.python_path', true) AS p")[0]['p']
if not setting:
    plpy.error('assocdata.python_path is not set',
               hint="Set it to '<plpython target dir>:<repository>/etl' "
                    "(ALTER DATABASE ... SET assocdata.python_path = ...); "
                    "the embedded cluster sets it itself.")
for path in reversed(setting.split(':')):
    if path and path not in sys.path:
        sys.path.insert(0, path)
GD['assocdata_bootstrapped'] = setting
return setting
$$;

CREATE OR REPLACE FUNCTION assocdata.python_versions() RETURNS jsonb
LANGUAGE plpython3u STABLE AS $$
plpy.execute('SELECT assocdata.python_bootstrap()')
import json, sys
import assocdata, astropy, astropy.wcs, numpy
return json.dumps({
    'python': sys.version.split()[0],
    'executable': sys.executable,
    'assocdata': assocdata.__version__,
    'astropy': astropy.__version__,
    'numpy': numpy.__version__,
    'wcslib': astropy.wcs._wcs.WCSLIB_VERSION,
})
$$;
COMMENT ON FUNCTION assocdata.python_versions() IS
  'Versions of the Python stack PL/Python imports: must equal the client''s (constraints.txt)';
