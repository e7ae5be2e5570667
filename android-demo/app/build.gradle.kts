plugins {
    id("com.android.application")
    id("org.jetbrains.kotlin.android")
}

android {
    namespace = "dev.punchcore.demo"
    compileSdk = 36
    defaultConfig {
        applicationId = "dev.punchcore.demo"
        minSdk = 28 // BiometricPrompt, StrongBox
        targetSdk = 36 // Google Play requires 36 from 31 August 2026
        versionCode = 1
        versionName = "0.1.0"
        // The development server on the computer, reached through
        // `adb reverse tcp:8787 tcp:8787`: loopback is the only plain http the
        // library (and res/xml/network_security_config.xml) allows.
        buildConfigField("String", "PUNCH_SERVER_URL", "\"http://127.0.0.1:8787\"")
        // `punch-server admin --db server.db policy-key`
        buildConfigField("String", "PUNCH_POLICY_KEY", "\"PASTE-THE-BASE64-POLICY-KEY\"")
    }
    buildFeatures { buildConfig = true }
    buildTypes {
        release {
            // The SDK's consumer rules keep JNA and the bindings (proven by scripts/check-keep-rules.sh).
            isMinifyEnabled = true
            proguardFiles(getDefaultProguardFile("proguard-android-optimize.txt"))
        }
    }
    compileOptions {
        sourceCompatibility = JavaVersion.VERSION_17
        targetCompatibility = JavaVersion.VERSION_17
    }
}

kotlin { jvmToolchain(17) }

dependencies {
    // The SDK: bindings, OkHttp transport, adapters, libpunchcore.so, consumer R8 rules.
    // A team outside this repository uses implementation("dev.punchcore:punchcore-android:0.1.0").
    implementation(project(":punchcore-android"))
}
