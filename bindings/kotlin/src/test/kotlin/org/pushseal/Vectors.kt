package org.pushseal

import org.json.JSONArray
import org.json.JSONObject
import java.io.File
import java.time.Duration
import java.time.Instant

/** The shared test vectors in test-vectors/ (see test-vectors/README.md for the schema). */
object Vectors {
    /** How many vectors the files hold (the same counts as sdk-core/tests/vectors.rs). */
    const val POSITIVE = 19
    const val NEGATIVE = 130
    const val SEQUENCES = 10
    const val STEPS = 54
    const val KEY_TEXTS = 28
    const val ERROR_KINDS = 21

    /** The RFC 9180 file: its modes, encryptions and exports (the same counts as sdk-core/tests/rfc9180.rs). */
    const val RFC9180_MODES = 4
    const val RFC9180_ENCRYPTIONS = 1028
    const val RFC9180_EXPORTS = 12

    /** v2.json: its positive, negative, sender and key text vectors (the same counts as sdk-core/tests/vectors_v2.rs). */
    const val V2_POSITIVE = 4
    const val V2_NEGATIVE = 15
    const val V2_SENDER = 7
    const val V2_KEY_TEXTS = 13

    private val dir: File =
        File(System.getProperty("pushseal.vectors.dir") ?: "../../test-vectors")

    /** The `vectors` array of one file, after checking the schema version. */
    fun load(name: String): List<JSONObject> {
        val file = JSONObject(File(dir, name).readText(Charsets.UTF_8))
        check(file.getInt("version") == 1) { "$name: unknown schema version" }
        val vectors = file.getJSONArray("vectors")
        return (0 until vectors.length()).map { vectors.getJSONObject(it) }
    }

    /** v2.json, the envelope version 2 vectors: its one object of sections (`positive`, `negative`, `sender`, `key_texts`). */
    fun loadV2(): JSONObject = load("v2.json").single()

    /** A third-party file that is a bare JSON array of objects (test-vectors/SOURCES.md). */
    fun loadArray(name: String): List<JSONObject> = JSONArray(File(dir, name).readText(Charsets.UTF_8)).objects()

    fun JSONObject.optText(field: String): String? = if (isNull(field)) null else getString(field)

    fun JSONObject.stringMap(): Map<String, String> = keySet().associateWith { getString(it) }

    /** The vectors' snake_case name of an error's kind, from the library's `ErrorKind`. */
    fun kindName(e: PushSealException): String = e.kind().specName()

    /** Unix seconds as the bindings' time type. */
    fun instant(unixSecs: Long): Instant = Instant.ofEpochSecond(unixSecs)

    /** Opens a payload object (`kind` + `value`) at `now`. */
    fun open(keyring: DeviceKeyring, payload: JSONObject, replay: ReplayStore, now: Instant): OpenedNotification =
        when (val kind = payload.getString("kind")) {
            "apns" -> keyring.open(Payload.Apns(payload.getString("value")), replay, now)
            "fcm" -> keyring.open(Payload.Fcm(payload.getJSONObject("value").stringMap()), replay, now)
            "envelope" -> keyring.open(Payload.Envelope(payload.getString("value")), replay, now)
            else -> error("unknown payload kind $kind")
        }

    /** The notification object of the vectors, as the bindings return it. */
    fun notification(o: JSONObject): OpenedNotification = OpenedNotification(
        id = o.getString("id"),
        sentAt = instant(o.getLong("sent_at")),
        expiresAt = instant(o.getLong("expires_at")),
        title = o.getString("title"),
        body = o.getString("body"),
        data = o.getJSONObject("data").stringMap(),
        threadId = o.optText("thread_id"),
        category = o.optText("category"),
        badge = if (o.isNull("badge")) null else o.getLong("badge"),
        sound = o.optText("sound"),
    )

    fun message(o: JSONObject): Message = Message(
        title = o.getString("title"),
        body = o.getString("body"),
        data = o.getJSONObject("data").stringMap(),
        threadId = o.optText("thread_id"),
        category = o.optText("category"),
        badge = if (o.isNull("badge")) null else o.getLong("badge"),
        sound = o.optText("sound"),
        ttl = Duration.ofSeconds(o.getLong("ttl_secs")),
    )

    fun target(o: JSONObject): Target = when (val kind = o.getString("kind")) {
        "envelope" -> Target.Envelope
        "apns" -> o.getJSONObject("options").let {
            Target.Apns(
                ApnsOptions(
                    pushType = if (it.getString("push_type") == "background") ApnsPushType.BACKGROUND else ApnsPushType.ALERT,
                    fallbackTitle = it.optText("fallback_title"),
                    fallbackBody = it.optText("fallback_body"),
                    collapseId = it.optText("collapse_id"),
                    topic = it.optText("topic"),
                ),
            )
        }
        "fcm" -> o.getJSONObject("options").let {
            Target.Fcm(FcmOptions(token = it.optText("token"), collapseKey = it.optText("collapse_key"), priority = null))
        }
        else -> error("unknown target kind $kind")
    }

    fun JSONArray.objects(): List<JSONObject> = (0 until length()).map { getJSONObject(it) }
}
