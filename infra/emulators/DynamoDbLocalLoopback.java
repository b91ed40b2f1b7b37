// Starts AWS's DynamoDB Local bound to 127.0.0.1 only: the jar has no host
// option and listens on every interface. Run with the source launcher:
//   java -cp DynamoDBLocal.jar DynamoDbLocalLoopback.java -inMemory -port 8000 ...
import java.lang.reflect.Field;

public class DynamoDbLocalLoopback {
    public static void main(String[] args) throws Exception {
        String host = System.getProperty("ddb.host", "127.0.0.1");
        Class<?> runner = Class.forName("software.amazon.dynamodb.services.local.main.ServerRunner");
        Object proxy = runner.getMethod("createServerFromCommandLineArgs", String[].class)
                .invoke(null, (Object) args);
        Field f = proxy.getClass().getDeclaredField("server");
        f.setAccessible(true);
        Object server = f.get(proxy);
        Object[] connectors = (Object[]) server.getClass().getMethod("getConnectors").invoke(server);
        if (connectors.length == 0) {
            throw new IllegalStateException("DynamoDB Local created no connector");
        }
        for (Object c : connectors) {
            c.getClass().getMethod("setHost", String.class).invoke(c, host);
        }
        proxy.getClass().getMethod("start").invoke(proxy);
        System.out.println("DynamoDB Local listening on " + host);
        proxy.getClass().getMethod("join").invoke(proxy);
    }
}
